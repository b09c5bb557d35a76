package net.roamproxy.cli;

/** Bad command-line input: reported in one line, exit status {@value Launcher#EXIT_USAGE}. */
final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
