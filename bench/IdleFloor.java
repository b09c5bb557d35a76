import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The floor under what idle sessions cost in a proxy built as roamproxy is: N loopback
 * connections, a thread at each end, and one 40-byte heartbeat each way per second, with none of
 * roamproxy's own work (no framing, no crypto, no state). Prints the CPU this process used.
 *
 * <pre>
 * java bench/IdleFloor.java [N [SECONDS [MODE [THREADS]]]]   (defaults 1000 20 timed platform)
 * </pre>
 *
 * MODE {@code timed}: one end reads with a 1 s timeout and sends a heartbeat when it expires,
 * the other answers each at once: the daemons' pattern on an idle link. {@code timer}: both
 * ends read without a timeout, and one shared timer thread sends the heartbeats instead.
 * THREADS: {@code platform}, or {@code virtual} (Java 21+). Both ends are in this one process,
 * so the figure covers a cproxy and an sproxy together.
 */
public class IdleFloor {
    private static final byte[] HEARTBEAT = new byte[40];

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        String mode = args.length > 2 ? args[2] : "timed";
        ThreadFactory threads = args.length > 3 && args[3].equals("virtual") ? virtual() : r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        };
        InetAddress lo = InetAddress.getLoopbackAddress();
        List<Socket> timerSide = new ArrayList<>();
        try (ServerSocket server = new ServerSocket(0, n, lo)) {
            for (int i = 0; i < n; i++) {
                Socket a = new Socket(lo, server.getLocalPort());
                Socket b = server.accept();
                a.setTcpNoDelay(true);
                b.setTcpNoDelay(true);
                timerSide.add(a);
                threads.newThread(() -> {
                    if (mode.equals("timed")) {
                        sendOnTimeout(a);
                    } else {
                        drain(a);
                    }
                }).start();
                threads.newThread(() -> answer(b)).start();
            }
        }
        if (mode.equals("timer")) {
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(threads);
            for (int i = 0; i < n; i++) {
                Socket a = timerSide.get(i);
                timer.scheduleAtFixedRate(() -> write(a), i * 1000L / n, 1000, TimeUnit.MILLISECONDS);
            }
        }
        Thread.sleep(3000); // every link settles into its once-a-second rhythm
        long cpu0 = cpuNanos();
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        double cpu = cpuNanos() - cpu0;
        double wall = System.nanoTime() - t0;
        System.out.printf("%s, %s threads, %d connections, Java %s: %.1f %% of one core, %.0f µs per connection "
                + "per second (both ends)%n", mode, args.length > 3 ? args[3] : "platform", n,
                Runtime.version().feature(), 100 * cpu / wall, cpu / 1e3 / n / (wall / 1e9));
        System.exit(0);
    }

    /** The daemons' link reader: a 1 s read timeout, and a heartbeat sent when it expires. */
    private static void sendOnTimeout(Socket s) {
        try {
            s.setSoTimeout(1000);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64];
            while (true) {
                try {
                    if (in.read(buf) < 0) {
                        return;
                    }
                } catch (SocketTimeoutException e) {
                    s.getOutputStream().write(HEARTBEAT);
                }
            }
        } catch (IOException e) {
            // ends with the process
        }
    }

    private static void drain(Socket s) {
        try {
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64];
            while (in.read(buf) >= 0) {
                // the answers: read only
            }
        } catch (IOException e) {
            // ends with the process
        }
    }

    /** The peer: answers each heartbeat at once, as a reader whose own is due soon does. */
    private static void answer(Socket s) {
        try {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[64];
            while (in.read(buf) >= 0) {
                out.write(HEARTBEAT);
            }
        } catch (IOException e) {
            // ends with the process
        }
    }

    private static void write(Socket s) {
        try {
            s.getOutputStream().write(HEARTBEAT);
        } catch (IOException e) {
            // ends with the process
        }
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** Thread.ofVirtual().factory(), looked up so that this file also compiles on Java 17. */
    private static ThreadFactory virtual() throws ReflectiveOperationException {
        Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
        return (ThreadFactory) Class.forName("java.lang.Thread$Builder").getMethod("factory").invoke(builder);
    }
}
