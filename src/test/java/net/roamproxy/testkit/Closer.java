package net.roamproxy.testkit;

import java.util.ArrayDeque;
import java.util.Deque;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Closes what a test opened, last opened first, even when closing one of them fails. In a test
 * class, {@code @RegisterExtension final Closer closer = new Closer();} closes everything after
 * each test, whether it passed or not (JUnit instantiates the class once per test, so each test
 * has its own). Not thread-safe: used by the test thread only.
 */
public final class Closer implements AutoCloseable, AfterEachCallback {
    private final Deque<AutoCloseable> stack = new ArrayDeque<>();

    public <T extends AutoCloseable> T add(T resource) {
        stack.push(resource);
        return resource;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }

    @Override
    public void close() {
        IllegalStateException failed = null;
        while (!stack.isEmpty()) {
            try {
                stack.pop().close();
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                if (failed == null) {
                    failed = new IllegalStateException("cleanup failed", e);
                } else {
                    failed.addSuppressed(e);
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
    }
}
