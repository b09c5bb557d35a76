package net.roamproxy.metrics;

/** A daemon that keeps {@link Metrics}: what {@code --metrics} serves. */
public interface Measured {
    Metrics metrics();
}
