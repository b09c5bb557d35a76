package net.roamproxy.status;

import net.roamproxy.session.SessionStatus;

/** One line of {@code --status}: a session and the service it is for. */
public record Row(String service, SessionStatus session) {
}
