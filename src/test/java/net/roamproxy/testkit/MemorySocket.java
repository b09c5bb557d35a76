package net.roamproxy.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;

/**
 * One end of an in-memory connection that behaves like a TCP socket where the session code
 * cares: read timeouts ({@link SocketTimeoutException}), EOF after the peer's
 * {@link #shutdownOutput()} or close, "Connection reset" after the peer closed with
 * {@code SO_LINGER} 0. No operating-system socket is ever created, so code that takes a
 * {@link Socket} can be unit-tested without the network. Writes never block (the buffer is
 * unbounded). {@link #wakeReader()} makes a blocked (or the next) read time out at once, so that a test on
 * a fake clock can let the reader re-check its deadlines without waiting.
 *
 * <p>Threading: one reader and one writer at a time, as with a real socket; close from any thread.
 */
public final class MemorySocket extends Socket {
    private final Pipe inbound;
    private final Pipe outbound;
    private final InetSocketAddress local;
    private final InetSocketAddress remote;
    private volatile int timeoutMillis;
    private volatile boolean lingerZero;
    private volatile boolean closed;
    private volatile boolean outputShutdown;
    private volatile RuntimeException writeFailure;
    private final InputStream in = new InputStream() {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (closed) {
                throw new SocketException("Socket closed");
            }
            return inbound.read(b, off, len, timeoutMillis);
        }
    };
    private final OutputStream out = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (closed) {
                throw new SocketException("Socket closed");
            }
            if (outputShutdown) {
                throw new SocketException("Socket output is shutdown");
            }
            RuntimeException failure = writeFailure;
            if (failure != null) {
                throw failure;
            }
            outbound.write(b, off, len);
        }
    };

    private MemorySocket(Pipe inbound, Pipe outbound, InetSocketAddress local, InetSocketAddress remote) {
        this.inbound = inbound;
        this.outbound = outbound;
        this.local = local;
        this.remote = remote;
    }

    /** Two connected ends; {@code [0]} at port {@code 1}, {@code [1]} at port {@code 2} of 127.0.0.1. */
    public static MemorySocket[] pair() {
        Pipe ab = new Pipe();
        Pipe ba = new Pipe();
        InetSocketAddress a = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1);
        InetSocketAddress b = new InetSocketAddress(InetAddress.getLoopbackAddress(), 2);
        return new MemorySocket[] {new MemorySocket(ba, ab, a, b), new MemorySocket(ab, ba, b, a)};
    }

    /**
     * Every write on this end from now on throws {@code e}: a bug in the code that writes (a
     * frame of a bad length, say), as the session would meet it, without an I/O error.
     */
    public void failWritesWith(RuntimeException e) {
        writeFailure = e;
    }

    /** A read blocked on this end now times out (as if its timeout had passed). */
    public void wakeReader() {
        inbound.wake();
    }

    /** Whether a read on this end is blocked waiting for bytes: its reader has computed its deadlines. */
    public boolean readerWaiting() {
        return inbound.readerWaiting();
    }

    @Override
    public InputStream getInputStream() {
        return in;
    }

    @Override
    public OutputStream getOutputStream() {
        return out;
    }

    @Override
    public void setSoTimeout(int timeout) {
        timeoutMillis = timeout;
    }

    @Override
    public int getSoTimeout() {
        return timeoutMillis;
    }

    @Override
    public void setSoLinger(boolean on, int linger) {
        lingerZero = on && linger == 0;
    }

    @Override
    public void setTcpNoDelay(boolean on) {
        // nothing to delay in memory
    }

    @Override
    public void setKeepAlive(boolean on) {
        // no probes in memory
    }

    @Override
    public void shutdownOutput() throws IOException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        outputShutdown = true;
        outbound.end();
    }

    @Override
    public void shutdownInput() {
        inbound.endForReader();
    }

    @Override
    public boolean isOutputShutdown() {
        return outputShutdown;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        inbound.closeReader();
        if (lingerZero) {
            outbound.reset();
            inbound.reset();
        } else {
            outbound.end();
        }
    }

    /** Whether this end was closed with {@code SO_LINGER} 0 (a reset). */
    public boolean wasReset() {
        return closed && lingerZero;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public boolean isConnected() {
        return true;
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return remote;
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return local;
    }

    @Override
    public InetAddress getLocalAddress() {
        return local.getAddress();
    }

    @Override
    public InetAddress getInetAddress() {
        return remote.getAddress();
    }

    @Override
    public int getPort() {
        return remote.getPort();
    }

    @Override
    public int getLocalPort() {
        return local.getPort();
    }

    @Override
    public String toString() {
        return "MemorySocket[" + local.getPort() + "->" + remote.getPort() + "]";
    }

    /** One direction's bytes. */
    private static final class Pipe {
        private byte[] buf = new byte[1024];
        private int start;
        private int end;
        private boolean ended;
        private boolean reset;
        private boolean readerClosed;
        /** A wake-up not yet taken by a read: it is kept, so one that comes just before the read counts. */
        private boolean wakePending;
        private boolean readerWaiting;

        synchronized void write(byte[] b, int off, int len) throws IOException {
            if (reset || readerClosed) {
                throw new SocketException("Connection reset by peer");
            }
            if (ended) {
                throw new SocketException("Broken pipe");
            }
            if (end + len > buf.length) {
                byte[] bigger = new byte[Math.max(2 * buf.length, end - start + len)];
                System.arraycopy(buf, start, bigger, 0, end - start);
                end -= start;
                start = 0;
                buf = bigger;
            }
            System.arraycopy(b, off, buf, end, len);
            end += len;
            notifyAll();
        }

        synchronized int read(byte[] b, int off, int len, int timeoutMillis) throws IOException {
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
            while (start == end && !ended && !reset && !readerClosed) {
                if (wakePending) {
                    wakePending = false;
                    throw new SocketTimeoutException("Read timed out (woken)");
                }
                long left = timeoutMillis == 0 ? 0 : (deadline - System.nanoTime()) / 1_000_000;
                if (timeoutMillis != 0 && left <= 0) {
                    throw new SocketTimeoutException("Read timed out");
                }
                readerWaiting = true;
                try {
                    wait(timeoutMillis == 0 ? 0 : left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SocketException("interrupted");
                } finally {
                    readerWaiting = false;
                }
            }
            if (readerClosed) {
                throw new SocketException("Socket closed");
            }
            if (reset) {
                throw new SocketException("Connection reset");
            }
            if (start == end) {
                return -1;
            }
            int n = Math.min(len, end - start);
            System.arraycopy(buf, start, b, off, n);
            start += n;
            return n;
        }

        synchronized void end() {
            ended = true;
            notifyAll();
        }

        /** Our reader sees EOF now, whatever is still buffered (shutdown(SHUT_RD)). */
        synchronized void endForReader() {
            ended = true;
            start = end;
            notifyAll();
        }

        synchronized void reset() {
            reset = true;
            start = end;
            notifyAll();
        }

        synchronized void closeReader() {
            readerClosed = true;
            notifyAll();
        }

        synchronized boolean readerWaiting() {
            return readerWaiting;
        }

        synchronized void wake() {
            wakePending = true;
            notifyAll();
        }
    }
}
