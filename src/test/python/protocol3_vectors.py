#!/usr/bin/env python3
"""Known-answer vectors of roamproxy's protocol 3, computed independently of the Java code.

Written from the specification in the javadoc of net.roamproxy.wire (KeySchedule, KeyShare,
HostKey, FrameProtection, Transcript, Wire, Hello, Welcome, Refusal), with Python's hashlib and
hmac and the cryptography package (X25519, Ed25519, HKDF-Expand, AES-GCM); it never runs Java.
Protocol3VectorsTest computes the same values with the product's classes and compares.

Every input is fixed: a byte string named "x" is SHA-256("x"), or its first n bytes. Prints one
JSON object, name -> lower-case hex (the fingerprint is text), on stdout. With the argument
"dumps" it prints instead the frames and values of the design report's hex dumps, from
WireDumpsTest's inputs, which WireDumpsPythonTest compares with what the product writes.
"""
import base64
import hashlib
import hmac
import json
import struct
import sys

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ModuleNotFoundError as e:
    if not (e.name or "").startswith("cryptography"):
        raise
    # Exit status 77 tells Protocol3VectorsTest to skip its comparison with Python, not to fail.
    sys.stderr.write("the Python module %s is missing: install python3-cryptography\n" % e.name)
    sys.exit(77)

PREFIX = b"roamproxy3 "
MAGIC, VERSION, TAG = 0x5250, 3, 16
HELLO, WELCOME, DATA, PROOF, REFUSED, TOKEN = 1, 2, 4, 8, 11, 12
SEALED = {3, 4, 5, 6, 8, 9, 10, 12}
NEW, RESUME = 1, 2
NEW_SESSION, RESUMED, UNKNOWN_SESSION, BUSY, AUTH_FAILED = 1, 2, 3, 6, 7
SESSION_ID = 0x8BADF00D12345678  # high bit set: unsigned on the wire, negative as a Java long
WINDOW_C, WINDOW_S = 1 << 20, (1 << 31) - 1


def fixed(name, n=32):
    return hashlib.sha256(name.encode("ascii")).digest()[:n]


def sha256(b):
    return hashlib.sha256(b).digest()


def mac(key, *parts):
    return hmac.new(key, b"".join(parts), hashlib.sha256).digest()


def extract(salt, ikm):
    return mac(salt, ikm)


def expand_label(prk, label, ctx, n):
    full = PREFIX + label.encode("ascii")
    info = struct.pack(">HB", n, len(full)) + full + bytes([len(ctx)]) + ctx
    return HKDFExpand(hashes.SHA256(), n, info).derive(prk)


def session_secret(shared, psk, th):
    return expand_label(extract(psk if psk is not None else bytes(32), shared), "session", th, 32)


def link_keys(secret, shared, th):
    prk = extract(secret, shared)
    return {k: expand_label(prk, k, th, 12 if k.endswith("iv") else 32)
            for k in ("c2s key", "c2s iv", "s2c key", "s2c iv")}


def client_proof(secret, th):
    return mac(expand_label(secret, "proof c", b"", 32), th)


def server_proof(secret, th):
    return mac(expand_label(secret, "proof s", b"", 32), th)


def signed(what, th):
    return PREFIX + what.encode("ascii") + b"\x00" + th


def refusal_token(refusal_key, session_id):
    return mac(refusal_key, PREFIX + b"refusal token", struct.pack(">Q", session_id))


def x25519(scalar):
    k = X25519PrivateKey.from_private_bytes(scalar)
    return k, k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def agree(key, peer_public):
    return key.exchange(X25519PublicKey.from_public_bytes(peer_public))


def fingerprint(public):
    return "SHA256:" + base64.b64encode(sha256(public)).decode("ascii").rstrip("=")


def header(ftype, length, seq, ack):
    return struct.pack(">HBBIQQ", MAGIC, VERSION, ftype, length, seq, ack)


def clear(ftype, payload, seq=0, ack=0):
    return header(ftype, len(payload), seq, ack) + payload


def seal(key, iv, counter, ftype, payload, seq=0, ack=0):
    """A whole sealed frame: header (length with the tag) as AAD, nonce = iv XOR counter in its last 8 bytes."""
    h = header(ftype, len(payload) + TAG, seq, ack)
    nonce = iv[:4] + bytes(a ^ b for a, b in zip(iv[4:], struct.pack(">Q", counter)))
    return h + AESGCM(key).encrypt(nonce, payload, h)


def hello(mode, session_id, nonce, share, window, service=b""):
    return struct.pack(">BQ", mode, session_id) + nonce + share + struct.pack(">IB", window, len(service)) + service


def welcome_fixed(status, session_id, nonce, share, window):
    return struct.pack(">BQ", status, session_id) + nonce + share + struct.pack(">I", window)


def th_of(*frames):
    return sha256(b"".join(frames))


def primitives(v):
    prk = extract(fixed("salt"), fixed("ikm"))
    v["hkdf.extract"] = prk
    v["hkdf.expand.session"] = expand_label(prk, "session", fixed("context"), 32)
    v["hkdf.expand.iv"] = expand_label(prk, "c2s iv", fixed("context"), 12)
    v["hkdf.expand.emptycontext"] = expand_label(prk, "proof c", b"", 32)
    v["hkdf.expand.threeblocks"] = expand_label(prk, "session", fixed("context"), 80)
    a, a_pub = x25519(fixed("x25519 a"))
    b, b_pub = x25519(fixed("x25519 b"))
    v["x25519.a.public"], v["x25519.b.public"] = a_pub, b_pub
    v["x25519.shared"] = agree(a, b_pub)
    host = Ed25519PrivateKey.from_private_bytes(fixed("host key seed"))
    host_pub = host.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    v["ed25519.public"] = host_pub
    v["ed25519.fingerprint"] = fingerprint(host_pub)
    v["ed25519.signature"] = host.sign(fixed("message"))
    v["refusal.token"] = refusal_token(fixed("refusal key"), SESSION_ID)
    v["refusal.mac"] = mac(v["refusal.token"], fixed("th"))
    v["signed.welcome"] = signed("welcome", fixed("th"))
    v["signed.refusal"] = signed("refusal", fixed("th"))
    key, iv = fixed("aes key"), fixed("aes iv", 12)
    payload = fixed("payload") + b"roamproxy"
    for counter in (0, 1, (1 << 32) - 1, 0x0102030405060708):
        v["seal.data.%x" % counter] = seal(key, iv, counter, DATA, payload, 1 << 40, 77)
    v["seal.heartbeat.0"] = seal(key, iv, 0, 3, b"", 5, 6)


def scenario(v, p, psk):
    """One session: new (signed WELCOME, PROOF, TOKEN, DATA), a resume, an UNKNOWN_SESSION, signed refusals."""
    host = Ed25519PrivateKey.from_private_bytes(fixed("host key seed"))
    host_pub = host.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    c, c_pub = x25519(fixed("client share new"))
    s, s_pub = x25519(fixed("server share new"))
    h = clear(HELLO, hello(NEW, 0, fixed("client nonce new"), c_pub, WINDOW_C, b"web"))
    draft = clear(WELCOME, welcome_fixed(NEW_SESSION, SESSION_ID, fixed("server nonce new"), s_pub, WINDOW_S)
                  + host_pub + bytes(64))
    signature = host.sign(signed("welcome", th_of(h, draft[:-64])))
    w = draft[:-64] + signature
    th = th_of(h, w)
    shared = agree(s, c_pub)
    assert shared == agree(c, s_pub)
    secret = session_secret(shared, psk, th)
    keys = link_keys(secret, shared, th)
    # No javadoc gives PROOF's and TOKEN's seq and ack; 0 and 0 are what FrameWriter writes.
    proof = seal(keys["c2s key"], keys["c2s iv"], 0, PROOF, client_proof(secret, th))
    token = refusal_token(fixed("refusal key"), SESSION_ID)
    v.update({p + "new.hello": h, p + "new.welcome": w, p + "new.th": th, p + "new.secret": secret,
              p + "new.proof": proof,
              p + "new.token": seal(keys["s2c key"], keys["s2c iv"], 0, TOKEN, token),
              p + "new.data": seal(keys["c2s key"], keys["c2s iv"], 1, DATA, b"hello, sproxy", 0, 0)})
    for k, value in keys.items():
        v[p + "new." + k.replace(" ", ".")] = value
    # sproxy refuses a new session, signed: BUSY at once, AUTH_FAILED after a PROOF that failed.
    busy = clear(REFUSED, bytes([BUSY]) + host_pub + bytes(64))
    v[p + "refused.busy"] = busy[:-64] + host.sign(signed("refusal", th_of(h, busy[:-64])))
    failed = clear(REFUSED, bytes([AUTH_FAILED]) + host_pub + bytes(64))
    v[p + "refused.authfailed"] = failed[:-64] + host.sign(signed("refusal", th_of(h, w, proof, failed[:-64])))

    # A resume on a new link, with fresh shares on both sides.
    c2, c2_pub = x25519(fixed("client share resume"))
    s2, s2_pub = x25519(fixed("server share resume"))
    h2 = clear(HELLO, hello(RESUME, SESSION_ID, fixed("client nonce resume"), c2_pub, WINDOW_C), 0, 1000)
    draft = clear(WELCOME, welcome_fixed(RESUMED, SESSION_ID, fixed("server nonce resume"), s2_pub, WINDOW_S)
                  + bytes(32), 0, 2000)
    w2 = draft[:-32] + server_proof(secret, th_of(h2, draft[:-32]))
    th2 = th_of(h2, w2)
    keys2 = link_keys(secret, agree(c2, s2_pub), th2)
    v.update({p + "resume.hello": h2, p + "resume.welcome": w2, p + "resume.th": th2,
              p + "resume.proof": seal(keys2["c2s key"], keys2["c2s iv"], 0, PROOF, client_proof(secret, th2))})
    for k, value in keys2.items():
        v[p + "resume." + k.replace(" ", ".")] = value

    # A resume of a session sproxy no longer knows: UNKNOWN_SESSION with the token's MAC.
    _, c3_pub = x25519(fixed("client share unknown"))
    h3 = clear(HELLO, hello(RESUME, SESSION_ID, fixed("client nonce unknown"), c3_pub, WINDOW_C), 0, 3000)
    draft = clear(REFUSED, bytes([UNKNOWN_SESSION]) + bytes(32))
    v[p + "unknown.hello"] = h3
    v[p + "unknown.refused"] = draft[:-32] + mac(token, th_of(h3, draft[:-32]))


def run(n, first):
    return bytes((first + i) & 0xFF for i in range(n))


def dumps():
    """The design report's hex dumps (WireDumpsTest's inputs), frame by frame and value by value."""
    v = {}
    sid, window = 0x907D103BD57621E2, 1 << 20
    login, user = b"login: ", b"user\r\n"
    host = Ed25519PrivateKey.from_private_bytes(bytes([0x5E]) * 32)
    host_pub = host.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    refusal_key = bytes([0x7E]) * 32
    c, c_pub = x25519(run(32, 0x01))
    s, s_pub = x25519(run(32, 0x21))
    h = clear(HELLO, hello(NEW, 0, run(32, 0x80), c_pub, window))
    draft = clear(WELCOME, welcome_fixed(NEW_SESSION, sid, run(32, 0xA0), s_pub, window) + host_pub + bytes(64))
    w = draft[:-64] + host.sign(signed("welcome", th_of(h, draft[:-64])))
    th = th_of(h, w)
    shared = agree(c, s_pub)
    secret = session_secret(shared, None, th)
    k = link_keys(secret, shared, th)
    token = refusal_token(refusal_key, sid)
    v["hex-hello"], v["hex-welcome"] = h, w
    v["hex-proof"] = seal(k["c2s key"], k["c2s iv"], 0, PROOF, client_proof(secret, th))
    v["hex-token"] = seal(k["s2c key"], k["s2c iv"], 0, TOKEN, token)
    v["hex-data"] = seal(k["s2c key"], k["s2c iv"], 1, DATA, login, 0, 0)
    v["hex-heartbeat"] = seal(k["c2s key"], k["c2s iv"], 1, 3, b"", 0, len(login))
    v["X25519 shared secret, new session's link"] = shared
    v["transcript hash: HELLO NEW | WELCOME"] = th
    v["session secret"] = secret
    v["refusal token"] = token
    names = {"c2s key": "cproxy-to-sproxy key", "c2s iv": "cproxy-to-sproxy IV",
             "s2c key": "sproxy-to-cproxy key", "s2c iv": "sproxy-to-cproxy IV"}
    for name, value in k.items():
        v[names[name] + ", new session's link"] = value
    v["PROOF's plaintext, new session's link"] = client_proof(secret, th)
    c2, c2_pub = x25519(run(32, 0x41))
    s2, s2_pub = x25519(run(32, 0x61))
    h2 = clear(HELLO, hello(RESUME, sid, run(32, 0xC0), c2_pub, window), 0, len(login))
    draft = clear(WELCOME, welcome_fixed(RESUMED, sid, run(32, 0xE0), s2_pub, window) + bytes(32))
    w2 = draft[:-32] + server_proof(secret, th_of(h2, draft[:-32]))
    th2 = th_of(h2, w2)
    shared2 = agree(c2, s2_pub)
    k2 = link_keys(secret, shared2, th2)
    v["hex-hello-resume"], v["hex-welcome-resumed"] = h2, w2
    v["hex-proof-resume"] = seal(k2["c2s key"], k2["c2s iv"], 0, PROOF, client_proof(secret, th2))
    v["hex-data-resume"] = seal(k2["c2s key"], k2["c2s iv"], 1, DATA, user, 0, len(login))
    v["X25519 shared secret, resume's link"] = shared2
    v["transcript hash: HELLO RESUME | WELCOME RESUMED"] = th2
    for name, value in k2.items():
        v[names[name] + ", resume's link"] = value
    v["PROOF's plaintext, resume's link"] = client_proof(secret, th2)
    draft = clear(REFUSED, bytes([UNKNOWN_SESSION]) + bytes(32))
    v["hex-refused"] = draft[:-32] + mac(token, th_of(h2, draft[:-32]))
    v["cproxy's X25519 private scalar, new session"] = run(32, 0x01)
    v["sproxy's X25519 private scalar, new session"] = run(32, 0x21)
    v["cproxy's X25519 private scalar, resume"] = run(32, 0x41)
    v["sproxy's X25519 private scalar, resume"] = run(32, 0x61)
    v["sproxy's Ed25519 host key seed"] = bytes([0x5E]) * 32
    v["sproxy's refusal key"] = refusal_key
    return v


def main():
    if sys.argv[1:] == ["dumps"]:
        json.dump({k: x.hex() for k, x in dumps().items()}, sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
        return
    v = {}
    primitives(v)
    scenario(v, "nopsk.", None)
    scenario(v, "psk.", fixed("pre-shared key"))
    out = {k: (x if isinstance(x, str) else x.hex()) for k, x in v.items()}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
