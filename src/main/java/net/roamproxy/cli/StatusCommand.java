package net.roamproxy.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import net.roamproxy.status.RuntimeDir;
import net.roamproxy.status.StatusClient;

/** {@code cproxy --status} and {@code sproxy --status}: ask the running daemon, print its answer. Stateless. */
final class StatusCommand {
    /** The ways to be allowed: the daemons' status sockets are for their user, root and the group roamproxy. */
    static final String TRY_SUDO = "try sudo, or run as the daemon's user (for the system's daemons, members of the "
            + "group roamproxy may ask too: sudo adduser $USER roamproxy, then log in again)";

    private StatusCommand() {
    }

    /**
     * Every daemon of {@code command} this user can ask (or the system's, under root), one report
     * after the other, each text report under a line naming its port; JSON one object a line.
     *
     * @return 0 if at least one answered, 1 if none runs or answers
     */
    static int runAll(String command, boolean json, PrintStream out, PrintStream err) {
        int answered = 0;
        int silent = 0;
        RuntimeDir.Found found = RuntimeDir.portsOf(command);
        found.refused().forEach(why -> err.println(command + ": " + why));
        List<Path> denied = new ArrayList<>(found.denied());
        for (int port : found.ports()) {
            try {
                String report = StatusClient.ask(RuntimeDir.socketsToTry(command, port), json);
                out.print(json ? report : (answered == 0 ? "" : "\n") + "== " + command + " on port " + port + "\n"
                        + report);
                answered++;
            } catch (StatusClient.NoAnswer e) {
                err.println(noAnswer(command, port, e));
                silent++;
            } catch (AccessDeniedException e) {
                denied.add(Path.of(e.getFile()));
            } catch (IOException e) {
                // a socket left by a daemon that died: nothing to show for it
            }
        }
        if (answered == 0 && (silent > 0 || !found.refused().isEmpty())) {
            return Launcher.EXIT_FAILURE; // said why above
        }
        if (answered == 0 && !denied.isEmpty()) {
            err.println(command + ": permission denied reading " + denied.get(0) + ": " + TRY_SUDO);
            return Launcher.EXIT_FAILURE;
        }
        if (answered == 0) {
            err.println(command + ": no " + command + " is running for this user (with -p PORT, --status asks the "
                    + "one on that port and says why it cannot)");
            return Launcher.EXIT_FAILURE;
        }
        return Launcher.EXIT_OK;
    }

    /** @return the exit status: 0 printed, 1 no daemon of {@code command} answers for {@code port} */
    static int run(String command, int port, boolean json, PrintStream out, PrintStream err) {
        try {
            out.print(StatusClient.ask(RuntimeDir.socketsToTry(command, port), json));
            return Launcher.EXIT_OK;
        } catch (StatusClient.NoAnswer e) {
            err.println(noAnswer(command, port, e));
            return Launcher.EXIT_FAILURE;
        } catch (RuntimeDir.Refused e) {
            err.println(command + ": " + e.getMessage());
            return Launcher.EXIT_FAILURE;
        } catch (AccessDeniedException e) {
            err.println(command + ": permission denied asking the " + command + " on port " + port + " (" + e.getFile()
                    + "): " + TRY_SUDO);
            return Launcher.EXIT_FAILURE;
        } catch (IOException e) {
            err.println(command + ": no " + command + " is running on port " + port + " for this user ("
                    + e.getMessage() + ")");
            return Launcher.EXIT_FAILURE;
        }
    }

    /** One line for a daemon that took the request and is stuck: it runs, so "not running" would mislead. */
    private static String noAnswer(String command, int port, StatusClient.NoAnswer e) {
        return command + ": the " + command + " on port " + port + " did not answer within " + e.within().toSeconds()
                + " s";
    }
}
