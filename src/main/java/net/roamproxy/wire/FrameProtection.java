package net.roamproxy.wire;

import java.io.IOException;
import java.security.GeneralSecurityException;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Protection of sealed frames with AES-256-GCM, as TLS 1.3 and QUIC protect records and
 * packets (RFC 8446 section 5.3, RFC 9001 section 5.3): the frame's 24-byte header, with its
 * {@code length} counting ciphertext and tag, is the associated data; the nonce is the
 * direction's IV XOR the 64-bit count of frames sealed before it under that key, so no
 * (key, nonce) pair is ever used twice. TCP delivers in order, so the receiver expects the
 * same count: a frame dropped, replayed, reordered, altered, or sealed under the other
 * direction's key fails its tag.
 *
 * <p>Usage limits: no key seals more than {@value #MAX_FRAMES} frames or {@value #MAX_BYTES}
 * bytes, far inside AES-GCM's confidentiality and integrity limits for 64 KiB frames (RFC 9001
 * section 6.6). Reaching either drops the link ({@link KeyLimitException}); the session resumes
 * on a new link with fresh keys, as ssh rekeys.
 *
 * <p>Threading: a {@link Sealer} belongs to whoever writes the link (one at a time), an
 * {@link Opener} to the link's reader.
 */
public final class FrameProtection {
    /** Frames one key seals at most: the link is dropped before the next. */
    public static final long MAX_FRAMES = 1L << 32;
    /** Plaintext bytes one key seals at most. */
    public static final long MAX_BYTES = 1L << 36;
    private static final int TAG_BITS = Wire.TAG_SIZE * 8;

    private FrameProtection() {
    }

    /** The sealer for our direction of a link. */
    public static Sealer sealer(byte[] key, byte[] iv) {
        return new Sealer(key, iv, MAX_FRAMES, MAX_BYTES);
    }

    /** The opener for the peer's direction of a link. */
    public static Opener opener(byte[] key, byte[] iv) {
        return new Opener(key, iv, MAX_FRAMES);
    }

    /** A key reached its usage limit: the link must go, and the session resume with fresh keys. */
    public static final class KeyLimitException extends IOException {
        private static final long serialVersionUID = 1L;

        KeyLimitException(String message) {
            super(message);
        }
    }

    /** Common to both directions: the key, the IV and the frame count. */
    private abstract static class Direction {
        final SecretKeySpec key;
        final byte[] iv;
        final byte[] nonce;
        final Cipher cipher;
        final long maxFrames;
        long frames;

        Direction(byte[] key, byte[] iv, long maxFrames) {
            Handshake.requireSize("key", key, KeySchedule.KEY_SIZE);
            Handshake.requireSize("iv", iv, KeySchedule.IV_SIZE);
            this.key = new SecretKeySpec(key, "AES");
            this.iv = iv.clone();
            this.nonce = iv.clone();
            this.maxFrames = maxFrames;
            try {
                cipher = Cipher.getInstance("AES/GCM/NoPadding");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM is part of every Java runtime", e);
            }
        }

        /** The nonce of frame number {@link #frames}: the IV with the count XORed into its last 8 bytes. */
        GCMParameterSpec nextNonce() {
            for (int i = 0; i < 8; i++) {
                nonce[4 + i] = (byte) (iv[4 + i] ^ (frames >>> (56 - 8 * i)));
            }
            return new GCMParameterSpec(TAG_BITS, nonce);
        }

        /** Frames this key has handled so far. */
        public long frames() {
            return frames;
        }
    }

    /** Seals our frames. */
    public static final class Sealer extends Direction {
        private final long maxBytes;
        private long bytes;

        /** With other limits than the real ones: for tests of what happens at a limit. */
        public Sealer(byte[] key, byte[] iv, long maxFrames, long maxBytes) {
            super(key, iv, maxFrames);
            this.maxBytes = maxBytes;
        }

        /**
         * Seals in place the frame in {@code frame}: its header (written with the sealed
         * length, {@link Wire#writeHeader}) at 0, {@code plainLength} payload bytes after it,
         * and {@link Wire#TAG_SIZE} bytes of room after those for the tag.
         *
         * @return the frame's length on the wire
         * @throws KeyLimitException if the key may seal no more
         */
        public int seal(byte[] frame, int plainLength) throws KeyLimitException {
            if (frames >= maxFrames || bytes + plainLength > maxBytes) {
                throw new KeyLimitException("this link's key has sealed " + frames + " frames and " + bytes
                        + " bytes, its usage limit: resuming with fresh keys");
            }
            try {
                cipher.init(Cipher.ENCRYPT_MODE, key, nextNonce());
                cipher.updateAAD(frame, 0, Wire.HEADER_SIZE);
                int n = cipher.doFinal(frame, Wire.HEADER_SIZE, plainLength, frame, Wire.HEADER_SIZE);
                frames++;
                bytes += plainLength;
                return Wire.HEADER_SIZE + n;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("sealing a frame failed: " + e, e);
            }
        }
    }

    /** Opens the peer's frames. */
    public static final class Opener extends Direction {

        /** With another limit than the real one: for tests of what happens at a limit. */
        public Opener(byte[] key, byte[] iv, long maxFrames) {
            super(key, iv, maxFrames);
        }

        /**
         * Checks and decrypts in place the sealed frame at {@code buf[off, off + HEADER_SIZE +
         * h.length())}; afterwards its plaintext, {@code h.length() - TAG_SIZE} bytes, follows the header.
         *
         * @throws ProtocolException if the tag does not check out (nothing of the payload may
         *                           then be used) or the peer sealed more frames under the key
         *                           than it may (the byte limit is the sender's to keep)
         */
        public void open(byte[] buf, int off, Wire.Header h) throws ProtocolException {
            open(buf, off, h, buf, off + Wire.HEADER_SIZE);
        }

        /**
         * Like {@link #open(byte[], int, Wire.Header)}, but the plaintext goes to
         * {@code dst[dstOff, dstOff + h.length() - TAG_SIZE)}. If the tag does not check out,
         * whatever was written there must not be used: the caller keeps {@code dst} in a place
         * nothing reads until the frame has opened.
         */
        public void open(byte[] buf, int off, Wire.Header h, byte[] dst, int dstOff) throws ProtocolException {
            if (frames >= maxFrames) {
                throw new ProtocolException(h.type() + " beyond the key's usage limit of " + maxFrames + " frames");
            }
            try {
                cipher.init(Cipher.DECRYPT_MODE, key, nextNonce());
                cipher.updateAAD(buf, off, Wire.HEADER_SIZE);
                cipher.doFinal(buf, off + Wire.HEADER_SIZE, h.length(), dst, dstOff);
                frames++;
            } catch (AEADBadTagException e) {
                throw new ProtocolException(h.type() + " frame " + frames + " failed authentication: altered, "
                        + "replayed, reordered or forged");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("opening a frame failed: " + e, e);
            }
        }
    }
}
