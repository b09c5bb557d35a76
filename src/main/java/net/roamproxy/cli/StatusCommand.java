package net.roamproxy.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.io.PrintStream;

import net.roamproxy.status.RuntimeDir;
import net.roamproxy.status.StatusClient;

/** {@code cproxy --status} and {@code sproxy --status}: ask the running daemon, print its answer. Stateless. */
final class StatusCommand {
    private StatusCommand() {
    }

    /** @return the exit status: 0 printed, 1 no daemon of {@code command} answers for {@code port} */
    static int run(String command, int port, boolean json, PrintStream out, PrintStream err) {
        try {
            out.print(StatusClient.ask(RuntimeDir.socketsToTry(command, port), json));
            return Launcher.EXIT_OK;
        } catch (AccessDeniedException e) {
            err.println(command + ": permission denied asking the " + command + " on port " + port + " (" + e.getFile()
                    + "): try sudo, or run as the daemon's user");
            return Launcher.EXIT_FAILURE;
        } catch (IOException e) {
            err.println(command + ": no " + command + " is running on port " + port + " for this user ("
                    + e.getMessage() + ")");
            return Launcher.EXIT_FAILURE;
        }
    }
}
