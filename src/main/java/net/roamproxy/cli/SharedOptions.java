package net.roamproxy.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.commons.cli.UnrecognizedOptionException;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.stream.MemoryBudget;

/**
 * The options both commands have, how a command line is parsed, which options a config file
 * may set, and {@code --help}'s text around the option list. Stateless.
 */
final class SharedOptions {
    /** The exit statuses, as {@code --help} and the man pages state them. */
    static final String EXIT_STATUS_HELP = "Exit status: 0 stopped normally (also on SIGTERM or SIGINT); "
            + "1 cannot run (port already in use, name not resolvable, no Java 17 or later); "
            + "2 bad command line, config file, key or secret file, or log level.";

    /** The threat model in brief, for {@code --help}; docs/security.md has the full table. */
    static final String SECURITY_HELP = "Security: every frame after the opening handshake is encrypted and "
            + "authenticated (AES-256-GCM; fresh X25519 keys on every link). cproxy trusts sproxy's host key on first "
            + "use, as ssh does, or only the one given with --server-fingerprint (sproxy --fingerprint prints it). "
            + "Someone on the path can cut links, and cproxy then resumes; they cannot read, alter or take over a "
            + "session, nor end one once it is established. With --secret-file on both sides, nobody without the "
            + "key can open a session. Full threat table: docs/security.md (with the .deb: "
            + "/usr/share/doc/roamproxy/docs).";

    /** Options of earlier versions that are gone, with what to do instead. */
    static final Map<String, String> RETIRED = Map.of(
            "tls", "every link is now always encrypted and authenticated: remove it",
            "tls-keystore", "sproxy now has a host key instead (--host-key): remove it");

    /** Options that make no sense in a config file. */
    private static final Set<String> COMMAND_LINE_ONLY = Set.of("help", "version", "config", "fingerprint", "status",
            "json", "new-secret");
    /** The largest --buffer. */
    static final long MAX_BUFFER = 1L << 30;

    private SharedOptions() {
    }

    /** Adds the options both commands have, after {@code command}'s own. */
    static void add(Options options, String command) {
        options.addOption(Option.builder().longOpt("heartbeat").hasArg().argName("MS")
                .desc("heartbeat interval in milliseconds (default " + LinkSettings.DEFAULT_HEARTBEAT_INTERVAL.toMillis() + ")").build());
        options.addOption(Option.builder().longOpt("missed").hasArg().argName("N")
                .desc("missed heartbeats that mean the link is lost (default " + LinkSettings.DEFAULT_MISSED_HEARTBEATS + ")").build());
        options.addOption(Option.builder().longOpt("buffer").hasArg().argName("BYTES")
                .desc("replay buffer and receive window per session and direction, e.g. 1M or 512K (default 1M)").build());
        options.addOption(Option.builder().longOpt("memory").hasArg().argName("BYTES")
                .desc("all sessions' buffers together, e.g. 512M; near it windows shrink and reading from applications "
                        + "waits (default: half the maximum heap)").build());
        options.addOption(Option.builder().longOpt("detach-timeout").hasArg().argName("SECONDS")
                .desc("how long a session without a link is kept (default " + LinkSettings.DEFAULT_DETACH_TIMEOUT.toSeconds() + ")").build());
        options.addOption(Option.builder().longOpt("secret-file").hasArg().argName("FILE")
                .desc("pre-shared key: the bytes of FILE, at least " + SecretFile.MIN_SIZE + " random ones (sproxy "
                        + "--new-secret makes one), the same file on both hosts (default: none, any cproxy may open "
                        + "a session)").build());
        options.addOption(Option.builder().longOpt(LogLevel.OPTION).hasArg().argName("LEVEL")
                .desc("log level: " + String.join(", ", LogLevel.NAMES) + " (default: the environment's "
                        + LogLevel.ENV + ", else INFO); a reload applies a change").build());
        options.addOption(MetricsOption.option());
        options.addOption(Option.builder("c").longOpt("config").hasArg().argName("FILE")
                .desc("read options from FILE: 'key = value' lines, keys are the long option names, "
                        + "# starts a comment line; the command line overrides it").build());
        options.addOption(Option.builder().longOpt("status")
                .desc("print the live sessions of every " + command + " of this user (of the system, as root), or "
                        + "only of the one with these --port/--config settings, and exit (1 if none runs)").build());
        options.addOption(Option.builder().longOpt("json").desc("with --status: print JSON for scripts").build());
        options.addOption(Option.builder("h").longOpt("help").desc("show this help and exit").build());
        options.addOption(Option.builder("V").longOpt("version").desc("show the version and exit").build());
    }

    /** The keys a config file may set: the long options that make sense there, and {@code extra}. */
    static Set<String> configKeys(Options options, Set<String> extra) {
        Set<String> keys = new HashSet<>(extra);
        for (Option o : options.getOptions()) {
            if (o.getLongOpt() != null && !COMMAND_LINE_ONLY.contains(o.getLongOpt())) {
                keys.add(o.getLongOpt());
            }
        }
        return keys;
    }

    /** Parses {@code args}; an option of an earlier version gets a line saying what to do instead. */
    static CommandLine parse(Options options, String[] args) throws UsageException {
        try {
            return new DefaultParser().parse(options, args);
        } catch (UnrecognizedOptionException e) {
            String retired = RETIRED.get(e.getOption().replaceFirst("^--", "").replaceFirst("=.*", ""));
            throw new UsageException(retired == null ? e.getMessage() : e.getOption() + " is gone: " + retired);
        } catch (ParseException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** The link settings the options ask for, each checked with a one-line error. */
    static LinkSettings linkSettings(Settings s) throws UsageException {
        LinkSettings d = LinkSettings.defaults();
        long heartbeat = s.number("heartbeat", d.heartbeatInterval().toMillis(), 10, 3_600_000);
        long missed = s.number("missed", d.missedHeartbeats(), 1, 1000);
        long buffer = s.size("buffer", d.bufferBytes());
        if (buffer < LinkSettings.MIN_BUFFER_BYTES || buffer > MAX_BUFFER) {
            throw new UsageException(s.origin("buffer") + " must be from 64K to 1G, got " + s.value("buffer"));
        }
        long detach = s.number("detach-timeout", d.detachTimeout().toSeconds(), 1, 31_536_000);
        long memory = s.size("memory", d.memoryBytes());
        if (memory < MemoryBudget.MIN_LIMIT) {
            throw new UsageException(s.origin("memory") + " must be at least " + MemoryBudget.MIN_LIMIT / 1024
                    + "K (what one session needs), got " + s.value("memory"));
        }
        return new LinkSettings(Duration.ofMillis(heartbeat), (int) missed, (int) buffer, d.handshakeTimeout(),
                Duration.ofSeconds(detach), memory);
    }

    static void help(PrintStream out, String usage, String summary, Options options) {
        PrintWriter w = new PrintWriter(out);
        new HelpFormatter().printHelp(w, 90, usage, summary, options, 2, 2,
                "\n" + SECURITY_HELP + "\n\n" + EXIT_STATUS_HELP, false);
        w.flush();
    }
}
