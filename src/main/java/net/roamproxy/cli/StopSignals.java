package net.roamproxy.cli;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Turns SIGTERM and SIGINT into a request for an orderly stop, and SIGHUP into a request to
 * reload the configuration, instead of the JVM's defaults (for SIGHUP: exit, ending every
 * session). For SIGTERM and SIGINT the JVM's default
 * runs shutdown hooks and then exits with status 143 (or 130): systemd would report
 * that as a failure of a service it stopped itself. A signal the process started with ignored
 * (SIGINT of a job started with {@code &} from a script) stays ignored.
 *
 * <p>{@code sun.misc.Signal} is in {@code jdk.unsupported}, which every JDK since 9 ships and
 * exports for exactly this kind of use; if it ever refuses, the command keeps its shutdown
 * hook and merely exits with the JVM's status. It is reached by reflection only because
 * javac warns about every direct use of it, with no way to suppress that warning.
 *
 * <p>The actions run on the JVM's signal-dispatch thread: they must only hand the request on
 * (count down a latch, start a thread), never block.
 */
final class StopSignals {
    static final List<String> NAMES = List.of("TERM", "INT");
    static final String RELOAD = "HUP";

    private StopSignals() {
    }

    /**
     * Installs {@code action} for SIGTERM and SIGINT, which receives the signal's name, and
     * {@code reload} for SIGHUP.
     *
     * @return the names of the signals now handled (empty if the JVM refused them all)
     */
    static List<String> install(Consumer<String> action, Runnable reload) {
        List<String> installed = new ArrayList<>();
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Constructor<?> named = signal.getConstructor(String.class);
            Method handle = signal.getMethod("handle", signal, handlerType);
            Method getName = signal.getMethod("getName");
            Object handler = Proxy.newProxyInstance(StopSignals.class.getClassLoader(), new Class<?>[] {handlerType},
                    (self, method, args) -> switch (method.getName()) {
                        case "handle" -> {
                            String name = (String) getName.invoke(args[0]);
                            if (RELOAD.equals(name)) {
                                reload.run();
                            } else {
                                action.accept("SIG" + name);
                            }
                            yield null;
                        }
                        case "equals" -> self == args[0];
                        case "hashCode" -> System.identityHashCode(self);
                        default -> "roamproxy stop-signal handler";
                    });
            List<String> names = new ArrayList<>(NAMES);
            names.add(RELOAD);
            for (String name : names) {
                try {
                    handle.invoke(null, named.newInstance(name), handler);
                    installed.add(name);
                } catch (InvocationTargetException e) {
                    // -Xrs, or a platform without this signal: the shutdown hook still closes the proxy
                }
            }
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            // no sun.misc.Signal in this runtime: the shutdown hook still closes the proxy
        }
        return installed;
    }
}
