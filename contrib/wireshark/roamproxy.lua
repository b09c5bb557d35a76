-- Wireshark dissector for roamproxy's link protocol, version 3 (TCP port 6200).
--
--   wireshark -X lua_script:contrib/wireshark/roamproxy.lua capture.pcap
--   tshark -X lua_script:contrib/wireshark/roamproxy.lua -r capture.pcap -Y roamproxy
--
-- or copy this file to ~/.local/lib/wireshark/plugins/ (see README.md next to it).
--
-- The wire format is defined in src/main/java/net/roamproxy/wire (Wire, FrameType,
-- Handshake, Hello, Welcome, Refusal) and described in the design report's "Packet format"
-- chapter. Every frame is a 24-byte header in clear, big-endian:
--
--   magic u16 = 0x5250 "RP" | version u8 = 3 | type u8 | length u32 | seq u64 | ack u64
--
-- then `length` bytes. HELLO (1), WELCOME (2) and REFUSED (11) are in clear and decoded field by
-- field; every other type is sealed (AES-256-GCM: ciphertext as long as the plaintext, then a
-- 16-byte tag) and shown as such: this dissector never decrypts. Frames are reassembled across
-- TCP segments, and a segment may hold several. Anything that breaks the format (bad magic,
-- another version, an unknown type, a length outside the type's bounds, a bad handshake field)
-- is flagged as expert info, never a Lua error.

local HEADER_SIZE = 24
local MAGIC = 0x5250
local VERSION = 3
local TAG_SIZE = 16
local MAX_DATA = 65536
local PORT = 6200

local p = Proto("roamproxy", "roamproxy link protocol")

-- Frame types: name, sealed, allowed plaintext lengths ({min, max} or a list of exact sizes),
-- and what the header's seq means.
local CURSOR = "the sender's next stream offset"
local ZERO = "always 0"
local TYPES = {
    [1]  = { name = "HELLO",     sealed = false, sizes = { 78, 110 }, range = true, seq = ZERO },
    [2]  = { name = "WELCOME",   sealed = false, sizes = { 109, 173 }, seq = ZERO },
    [3]  = { name = "HEARTBEAT", sealed = true,  sizes = { 0 }, seq = CURSOR },
    [4]  = { name = "DATA",      sealed = true,  sizes = { 1, MAX_DATA }, range = true,
             seq = "stream offset of the first payload byte" },
    [5]  = { name = "ACK",       sealed = true,  sizes = { 0 }, seq = CURSOR },
    [6]  = { name = "END",       sealed = true,  sizes = { 0 }, seq = "final length of the sender's stream" },
    [8]  = { name = "PROOF",     sealed = true,  sizes = { 32 }, seq = ZERO },
    [9]  = { name = "ABORT",     sealed = true,  sizes = { 0 }, seq = CURSOR },
    [10] = { name = "STOPPING",  sealed = true,  sizes = { 0 }, seq = CURSOR },
    [11] = { name = "REFUSED",   sealed = false, sizes = { 1, 33, 97 }, seq = ZERO },
    [12] = { name = "TOKEN",     sealed = true,  sizes = { 32 }, seq = ZERO },
}
local T_HELLO, T_WELCOME, T_DATA, T_PROOF, T_REFUSED, T_TOKEN = 1, 2, 4, 8, 11, 12

local type_names = {}
for code, t in pairs(TYPES) do type_names[code] = t.name end

local mode_names = { [1] = "NEW", [2] = "RESUME" }
local status_names = {
    [1] = "NEW_SESSION", [2] = "RESUMED", [3] = "UNKNOWN_SESSION",
    [4] = "VERSION_MISMATCH", [5] = "TARGET_UNAVAILABLE", [6] = "BUSY",
    [7] = "AUTH_FAILED", [10] = "UNKNOWN_SERVICE", [11] = "WRONG_INSTANCE",
}
local ST_NEW_SESSION, ST_RESUMED = 1, 2
local KEY_SIZE, NONCE_SIZE, MAC_SIZE, HOST_KEY_SIZE, SIGNATURE_SIZE = 32, 32, 32, 32, 64
local HELLO_MIN = 78                -- HELLO without a service name
local MAX_SERVICE = 32
local WELCOME_FIXED = 77            -- status, id, nonce, key share, window
local WELCOME_NEW_SIZE = WELCOME_FIXED + HOST_KEY_SIZE + SIGNATURE_SIZE   -- 173
local WELCOME_RESUMED_SIZE = WELCOME_FIXED + MAC_SIZE                     -- 109

-- Fields. The header's are the ones to filter on: roamproxy.type == 4, roamproxy.seq > 1000, ...
local f = p.fields
f.magic = ProtoField.uint16("roamproxy.magic", "Magic", base.HEX)
f.version = ProtoField.uint8("roamproxy.version", "Version", base.DEC)
f.type = ProtoField.uint8("roamproxy.type", "Type", base.DEC, type_names)
f.length = ProtoField.uint32("roamproxy.length", "Length", base.DEC, nil, nil,
    "Bytes after the header; for a sealed type the ciphertext and the 16-byte tag")
f.seq = ProtoField.uint64("roamproxy.seq", "Seq", base.DEC)
f.ack = ProtoField.uint64("roamproxy.ack", "Ack", base.DEC, nil, nil,
    "How many bytes of the receiver's stream the sender has delivered to its application "
    .. "(plus one once the receiver's END was delivered)")
f.sealed = ProtoField.bool("roamproxy.sealed", "Sealed")
f.plaintext_length = ProtoField.uint32("roamproxy.plaintext_length", "Plaintext length", base.DEC)
f.sealed_payload = ProtoField.bytes("roamproxy.sealed_payload", "Sealed payload")
f.ciphertext = ProtoField.bytes("roamproxy.ciphertext", "Ciphertext")
f.gcm_tag = ProtoField.bytes("roamproxy.gcm_tag", "AES-GCM tag")
-- Handshake fields.
f.mode = ProtoField.uint8("roamproxy.mode", "Mode", base.DEC, mode_names)
f.status = ProtoField.uint8("roamproxy.status", "Status", base.DEC, status_names)
f.session_id = ProtoField.uint64("roamproxy.session_id", "Session id", base.HEX)
f.nonce = ProtoField.bytes("roamproxy.nonce", "Nonce")
f.key_share = ProtoField.bytes("roamproxy.key_share", "X25519 key share")
f.window = ProtoField.uint32("roamproxy.window", "Receive window", base.DEC)
f.service_length = ProtoField.uint8("roamproxy.service_length", "Service name length", base.DEC)
f.service = ProtoField.string("roamproxy.service", "Service")
f.host_key = ProtoField.bytes("roamproxy.host_key", "Host key (Ed25519)")
f.host_key_fingerprint = ProtoField.string("roamproxy.host_key_fingerprint", "Host key fingerprint", base.ASCII,
    "As sproxy --fingerprint prints it and cproxy's known_host_keys records it")
f.signature = ProtoField.bytes("roamproxy.signature", "Signature (Ed25519)")
f.mac = ProtoField.bytes("roamproxy.mac", "MAC (HMAC-SHA256)")
f.auth = ProtoField.string("roamproxy.auth", "Authentication")
f.not_interpreted = ProtoField.bytes("roamproxy.not_interpreted", "Not interpreted")

-- Expert info: what a peer would refuse, shown instead of raising a Lua error.
local e_bad_magic = ProtoExpert.new("roamproxy.bad_magic", "Not a roamproxy frame (wrong magic)",
    expert.group.MALFORMED, expert.severity.ERROR)
local e_version = ProtoExpert.new("roamproxy.other_version", "Not protocol version 3",
    expert.group.PROTOCOL, expert.severity.WARN)
local e_unknown_type = ProtoExpert.new("roamproxy.unknown_type", "Unknown frame type",
    expert.group.MALFORMED, expert.severity.ERROR)
local e_bad_length = ProtoExpert.new("roamproxy.bad_length", "Length outside the type's bounds",
    expert.group.MALFORMED, expert.severity.ERROR)
local e_bad_field = ProtoExpert.new("roamproxy.bad_field", "A field a peer would refuse",
    expert.group.PROTOCOL, expert.severity.WARN)
local e_no_auth = ProtoExpert.new("roamproxy.unauthenticated", "Unauthenticated refusal: cproxy ignores it",
    expert.group.SECURITY, expert.severity.WARN)
p.experts = { e_bad_magic, e_version, e_unknown_type, e_bad_length, e_bad_field, e_no_auth }

-- The host key's fingerprint as sproxy --fingerprint prints it and cproxy's known_host_keys
-- holds it: "SHA256:" and the unpadded base64 of the key's SHA-256. SHA-256 in plain
-- arithmetic (no bit library, no 5.3 operators), so that it runs on every Lua Wireshark ships
-- with; it hashes 32 bytes, once per WELCOME or signed REFUSED.
local TWO32 = 4294967296
local XOR4, AND4 = {}, {}                   -- 4-bit tables: index a * 16 + b
for a = 0, 15 do
    for b = 0, 15 do
        local x, y, bit = 0, 0, 1
        for _ = 0, 3 do
            local abit, bbit = math.floor(a / bit) % 2, math.floor(b / bit) % 2
            if abit ~= bbit then x = x + bit end
            if abit == 1 and bbit == 1 then y = y + bit end
            bit = bit * 2
        end
        XOR4[a * 16 + b], AND4[a * 16 + b] = x, y
    end
end
local function bitop(t, a, b)
    local r, m = 0, 1
    for _ = 1, 8 do
        r = r + t[(a % 16) * 16 + b % 16] * m
        a, b, m = math.floor(a / 16), math.floor(b / 16), m * 16
    end
    return r
end
local function bxor(a, b, c)
    local r = bitop(XOR4, a, b)
    if c then r = bitop(XOR4, r, c) end
    return r
end
local function band(a, b) return bitop(AND4, a, b) end
local function bnot(a) return TWO32 - 1 - a end
local function rotr(x, n) return math.floor(x / 2 ^ n) + (x % 2 ^ n) * 2 ^ (32 - n) end
local function shr(x, n) return math.floor(x / 2 ^ n) end
local K256 = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local function sha256(bytes)                -- bytes: a list of numbers 0..255; returns the same
    local msg = {}
    for i = 1, #bytes do msg[i] = bytes[i] end
    local bits = #bytes * 8
    msg[#msg + 1] = 0x80
    while #msg % 64 ~= 56 do msg[#msg + 1] = 0 end
    for i = 7, 0, -1 do msg[#msg + 1] = math.floor(bits / 2 ^ (8 * i)) % 256 end
    local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
    for chunk = 0, #msg / 64 - 1 do
        local w = {}
        for i = 0, 15 do
            local o = chunk * 64 + i * 4
            w[i] = ((msg[o + 1] * 256 + msg[o + 2]) * 256 + msg[o + 3]) * 256 + msg[o + 4]
        end
        for i = 16, 63 do
            local s0 = bxor(rotr(w[i - 15], 7), rotr(w[i - 15], 18), shr(w[i - 15], 3))
            local s1 = bxor(rotr(w[i - 2], 17), rotr(w[i - 2], 19), shr(w[i - 2], 10))
            w[i] = (w[i - 16] + s0 + w[i - 7] + s1) % TWO32
        end
        local a, b, c, d, e, f_, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
        for i = 0, 63 do
            local S1 = bxor(rotr(e, 6), rotr(e, 11), rotr(e, 25))
            local ch = bxor(band(e, f_), band(bnot(e), g))
            local t1 = (hh + S1 + ch + K256[i + 1] + w[i]) % TWO32
            local S0 = bxor(rotr(a, 2), rotr(a, 13), rotr(a, 22))
            local maj = bxor(band(a, b), band(a, c), band(b, c))
            local t2 = (S0 + maj) % TWO32
            hh, g, f_, e, d, c, b, a = g, f_, e, (d + t1) % TWO32, c, b, a, (t1 + t2) % TWO32
        end
        local v = { a, b, c, d, e, f_, g, hh }
        for i = 1, 8 do h[i] = (h[i] + v[i]) % TWO32 end
    end
    local out = {}
    for i = 1, 8 do
        for j = 3, 0, -1 do out[#out + 1] = math.floor(h[i] / 2 ^ (8 * j)) % 256 end
    end
    return out
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64_unpadded(bytes)
    local out = {}
    for i = 1, #bytes, 3 do
        local b1, b2, b3 = bytes[i], bytes[i + 1], bytes[i + 2]
        local n = b1 * 65536 + (b2 or 0) * 256 + (b3 or 0)
        local chars = b3 and 4 or (b2 and 3 or 2)
        for k = 1, chars do
            local idx = math.floor(n / 2 ^ (6 * (4 - k))) % 64
            out[#out + 1] = B64:sub(idx + 1, idx + 1)
        end
    end
    return table.concat(out)
end

local function fingerprint(range)
    local bytes = {}
    for i = 0, range:len() - 1 do bytes[i + 1] = range:range(i, 1):uint() end
    return "SHA256:" .. base64_unpadded(sha256(bytes))
end

local function u64_text(range)
    return range:uint64():tohex()   -- 16 lower-case hex digits, as the proxies log session ids
end

local function size_ok(t, n)
    if t.range then return n >= t.sizes[1] and n <= t.sizes[2] end
    for _, s in ipairs(t.sizes) do
        if n == s then return true end
    end
    return false
end

local function sizes_text(t, extra)
    local out = {}
    for _, s in ipairs(t.sizes) do out[#out + 1] = tostring(s + extra) end
    return table.concat(out, t.range and ".." or " or ")
end

-- Adds `text` to the Info column: set for the first frame of a packet, appended for the next.
local function info(pinfo, text)
    if pinfo.private["roamproxy_info"] then
        pinfo.cols.info:append(", " .. text)
    else
        pinfo.cols.info:set(text)
        pinfo.private["roamproxy_info"] = "1"
    end
end

-- Where a frame starting at `offset` ends. A header we cannot trust (wrong magic, a version
-- whose layout we do not know, a length beyond the largest frame) covers the rest of what we
-- have: there is no way to find the next frame in that stream.
local function frame_length(tvb, pinfo, offset)
    local available = tvb:len() - offset
    if tvb(offset, 2):uint() ~= MAGIC then return available end
    local version = tvb(offset + 2, 1):uint()
    if version < 1 or version > VERSION then return available end   -- 1 and 2 had this header too
    local length = tvb(offset + 4, 4):uint()
    if length > MAX_DATA + TAG_SIZE then return available end
    return HEADER_SIZE + length
end

local function check_zero(tree, range, what, value_is_zero, why)
    if not value_is_zero then
        tree:add_tvb_expert_info(e_bad_field, range, what .. " is not 0 (" .. why .. ")")
    end
end

local function dissect_hello(tvb, pinfo, tree, ack)
    local n = tvb:len()
    local mode = tvb(0, 1):uint()
    tree:add(f.mode, tvb(0, 1))
    if not mode_names[mode] then
        tree:add_tvb_expert_info(e_bad_field, tvb(0, 1), "HELLO mode " .. mode .. " is unknown")
    end
    local id_item = tree:add(f.session_id, tvb(1, 8))
    local id_zero = tvb(1, 8):uint64() == UInt64(0)
    if mode == 1 and not id_zero then
        id_item:add_tvb_expert_info(e_bad_field, tvb(1, 8), "HELLO NEW with a session id")
    elseif mode == 2 and id_zero then
        id_item:add_tvb_expert_info(e_bad_field, tvb(1, 8), "HELLO RESUME with session id 0")
    end
    if mode == 1 then id_item:append_text(" (none yet)") end
    -- The id's first byte: the sproxy instance (--instance) that holds it, stream offset 25.
    if mode == 2 then id_item:append_text(" (instance " .. tvb(1, 1):uint() .. ")") end
    tree:add(f.nonce, tvb(9, NONCE_SIZE)):append_text(" (cproxy's, fresh for every HELLO)")
    tree:add(f.key_share, tvb(41, KEY_SIZE)):append_text(" (cproxy's, fresh for every HELLO)")
    local window = tvb(73, 4):uint()
    local w_item = tree:add(f.window, tvb(73, 4))
    w_item:append_text(" bytes (cproxy's)")
    if window == 0 or window >= 0x80000000 then
        w_item:add_tvb_expert_info(e_bad_field, tvb(73, 4), "window " .. window .. " is not in 1..2^31-1")
    end
    local slen = tvb(77, 1):uint()
    local sl_item = tree:add(f.service_length, tvb(77, 1))
    local service = ""
    if slen == 0 then
        sl_item:append_text(mode == 1 and " (the default service)" or " (none)")
    end
    if n ~= HELLO_MIN + slen or slen > MAX_SERVICE then
        sl_item:add_tvb_expert_info(e_bad_field, tvb(77, 1), "HELLO is " .. n .. " bytes, not "
            .. HELLO_MIN .. " plus the service name's length " .. slen)
    elseif slen > 0 then
        service = tvb(HELLO_MIN, slen):string()
        local s_item = tree:add(f.service, tvb(HELLO_MIN, slen))
        if mode ~= 1 or not service:match("^[a-z0-9][a-z0-9._-]*$") then
            s_item:add_tvb_expert_info(e_bad_field, tvb(HELLO_MIN, slen),
                "service name not valid here (sproxy drops the link)")
        end
    end
    local text = "HELLO " .. (mode_names[mode] or ("mode " .. mode))
    if mode == 2 then
        text = text .. " id=" .. u64_text(tvb(1, 8)) .. " ack=" .. tostring(ack)
    elseif service ~= "" then
        text = text .. " service=" .. service
    end
    return text
end

local function dissect_welcome(tvb, pinfo, tree, ack)
    local n = tvb:len()
    local status = tvb(0, 1):uint()
    local st_item = tree:add(f.status, tvb(0, 1))
    if status ~= ST_NEW_SESSION and status ~= ST_RESUMED then
        st_item:add_tvb_expert_info(e_bad_field, tvb(0, 1), "WELCOME status " .. status
            .. " (" .. (status_names[status] or "unknown") .. ") is not NEW_SESSION or RESUMED")
    end
    local want = status == ST_NEW_SESSION and WELCOME_NEW_SIZE or WELCOME_RESUMED_SIZE
    if n ~= want and (status == ST_NEW_SESSION or status == ST_RESUMED) then
        st_item:add_tvb_expert_info(e_bad_field, tvb(0, 1), "WELCOME " .. status_names[status]
            .. " is " .. n .. " bytes, not " .. want)
    end
    local id_item = tree:add(f.session_id, tvb(1, 8))
    if tvb(1, 8):uint64() == UInt64(0) then
        id_item:add_tvb_expert_info(e_bad_field, tvb(1, 8), "WELCOME with session id 0")
    end
    tree:add(f.nonce, tvb(9, NONCE_SIZE)):append_text(" (sproxy's, fresh for every WELCOME)")
    tree:add(f.key_share, tvb(41, KEY_SIZE)):append_text(" (sproxy's, fresh for every WELCOME)")
    local window = tvb(73, 4):uint()
    local w_item = tree:add(f.window, tvb(73, 4))
    w_item:append_text(" bytes (sproxy's)")
    if window == 0 or window >= 0x80000000 then
        w_item:add_tvb_expert_info(e_bad_field, tvb(73, 4), "window " .. window .. " is not in 1..2^31-1")
    end
    -- The authentication comes last: by the payload's size, whatever the status claims.
    if n == WELCOME_NEW_SIZE then
        local hk = tree:add(f.host_key, tvb(WELCOME_FIXED, HOST_KEY_SIZE))
        hk:append_text(" (sproxy's, trusted on first use)")
        hk:add(f.host_key_fingerprint, tvb(WELCOME_FIXED, HOST_KEY_SIZE), fingerprint(tvb(WELCOME_FIXED, HOST_KEY_SIZE)))
            :set_generated()
        tree:add(f.signature, tvb(WELCOME_FIXED + HOST_KEY_SIZE, SIGNATURE_SIZE))
            :append_text(" (by the host key over the transcript)")
        tree:add(f.auth, "host key signature"):set_generated()
    elseif n == WELCOME_RESUMED_SIZE then
        tree:add(f.mac, tvb(WELCOME_FIXED, MAC_SIZE)):append_text(" (by the session secret over the transcript)")
        tree:add(f.auth, "MAC by the session secret"):set_generated()
    elseif n > WELCOME_FIXED then
        tree:add(f.not_interpreted, tvb(WELCOME_FIXED, n - WELCOME_FIXED))
    end
    local text = "WELCOME " .. (status_names[status] or ("status " .. status)) .. " id=" .. u64_text(tvb(1, 8))
    if status == ST_RESUMED then text = text .. " ack=" .. tostring(ack) end
    return text
end

local function dissect_refused(tvb, pinfo, tree)
    local n = tvb:len()
    local status = tvb(0, 1):uint()
    local st_item = tree:add(f.status, tvb(0, 1))
    if not status_names[status] or status == ST_NEW_SESSION or status == ST_RESUMED or status == 4 then
        st_item:add_tvb_expert_info(e_bad_field, tvb(0, 1), "REFUSED status " .. status .. " ("
            .. (status_names[status] or "unknown") .. ") is not a refusal of protocol 3")
    end
    local form
    local auth = n - 1
    if auth == HOST_KEY_SIZE + SIGNATURE_SIZE then
        form = "signed"
        local hk = tree:add(f.host_key, tvb(1, HOST_KEY_SIZE))
        hk:append_text(" (sproxy's)")
        hk:add(f.host_key_fingerprint, tvb(1, HOST_KEY_SIZE), fingerprint(tvb(1, HOST_KEY_SIZE))):set_generated()
        tree:add(f.signature, tvb(1 + HOST_KEY_SIZE, SIGNATURE_SIZE))
            :append_text(" (by the host key over the transcript)")
        tree:add(f.auth, "host key signature (refusal of a new session)"):set_generated()
    elseif auth == MAC_SIZE then
        form = "MAC"
        tree:add(f.mac, tvb(1, MAC_SIZE)):append_text(" (keyed by the session's refusal token)")
        tree:add(f.auth, "MAC with the refusal token (refusal of a resume)"):set_generated()
    else
        form = "unauthenticated"
        local item = tree:add(f.auth, "none")
        item:set_generated()
        item:add_proto_expert_info(e_no_auth,
            "REFUSED without authentication: a failed dial for cproxy, never the end of a session")
    end
    return "REFUSED " .. (status_names[status] or ("status " .. status)) .. " (" .. form .. ")"
end

local SEALED_CONTENT = {
    [T_DATA] = "application bytes",
    [T_PROOF] = "cproxy's proof of the session secret",
    [T_TOKEN] = "the session's refusal token",
}

-- One frame: `tvb` is exactly its bytes (or, for a broken header, the rest of the segment).
local function dissect_frame(tvb, pinfo, root)
    pinfo.cols.protocol = "roamproxy"
    local total = tvb:len()
    local tree = root:add(p, tvb())
    local magic = tvb(0, 2):uint()
    local m_item = tree:add(f.magic, tvb(0, 2))
    if magic ~= MAGIC then
        m_item:add_tvb_expert_info(e_bad_magic, tvb(0, 2), string.format(
            "magic 0x%04x, not 0x5250 \"RP\": not a roamproxy peer (or not the start of a frame)", magic))
        tree:add(f.not_interpreted, tvb())
        tree:append_text(": not a roamproxy frame")
        info(pinfo, "not roamproxy (bad magic)")
        return total
    end
    local version = tvb(2, 1):uint()
    local v_item = tree:add(f.version, tvb(2, 1))
    local code = tvb(3, 1):uint()
    if version ~= VERSION then
        local text
        if version == 1 or version == 2 then
            -- Versions 1 and 2 had this same header. sproxy answers their HELLO with a WELCOME
            -- of that version's VERSION_MISMATCH (status 3 in version 1, 4 in version 2).
            tree:add(f.type, tvb(3, 1)):set_text("Type: " .. code .. " (in version " .. version .. "'s numbering)")
            tree:add(f.length, tvb(4, 4))
            tree:add(f.seq, tvb(8, 8))
            tree:add(f.ack, tvb(16, 8))
            local legacy_status = version == 1 and 3 or 4
            if code == T_WELCOME and total > HEADER_SIZE and tvb(HEADER_SIZE, 1):uint() == legacy_status then
                text = "version " .. version .. " WELCOME VERSION_MISMATCH (sproxy refuses the old version)"
            else
                text = "version " .. version .. " frame, type " .. code
            end
        else
            text = "version " .. version .. " (unknown)"
        end
        v_item:add_tvb_expert_info(e_version, tvb(2, 1), "version " .. version
            .. ": a version-3 peer does not interpret the rest of the frame")
        if total > HEADER_SIZE and (version == 1 or version == 2) then
            tree:add(f.not_interpreted, tvb(HEADER_SIZE))
        elseif total > 3 and version ~= 1 and version ~= 2 then
            tree:add(f.not_interpreted, tvb(3))
        end
        tree:append_text(": " .. text)
        info(pinfo, text)
        return total
    end

    local t = TYPES[code]
    local ty_item = tree:add(f.type, tvb(3, 1))
    local l_item = tree:add(f.length, tvb(4, 4))
    local length = tvb(4, 4):uint()
    local seq_item = tree:add(f.seq, tvb(8, 8))
    local ack_item = tree:add(f.ack, tvb(16, 8))
    local seq, ack = tvb(8, 8):uint64(), tvb(16, 8):uint64()
    if tvb(8, 1):uint() >= 0x80 then
        seq_item:add_tvb_expert_info(e_bad_field, tvb(8, 8), "seq has its top bit set (a peer drops the link)")
    end
    if tvb(16, 1):uint() >= 0x80 then
        ack_item:add_tvb_expert_info(e_bad_field, tvb(16, 8), "ack has its top bit set (a peer drops the link)")
    end
    if not t then
        ty_item:add_tvb_expert_info(e_unknown_type, tvb(3, 1), "frame type " .. code
            .. " is unknown (a peer drops the link)" .. (code == 7 and "; 7 was version 2's CHALLENGE" or ""))
        if total > HEADER_SIZE then tree:add(f.not_interpreted, tvb(HEADER_SIZE)) end
        local text = "type " .. code .. " (unknown) seq=" .. tostring(seq) .. " ack=" .. tostring(ack) .. " length=" .. length
        tree:append_text(": " .. text)
        info(pinfo, text)
        return total
    end
    seq_item:append_text(" (" .. t.seq .. ")")
    local payload_len = total - HEADER_SIZE
    local plain = t.sealed and length - TAG_SIZE or length
    tree:add(f.sealed, t.sealed):set_generated()
    if t.sealed then
        l_item:append_text(" (" .. math.max(plain, 0) .. " encrypted + " .. TAG_SIZE .. " tag)")
    end
    local length_ok = plain >= 0 and size_ok(t, plain) and payload_len == length
    if not length_ok then
        l_item:add_tvb_expert_info(e_bad_length, tvb(4, 4), t.name .. " length " .. length .. " not in "
            .. sizes_text(t, t.sealed and TAG_SIZE or 0) .. " (a peer drops the link)")
    end
    if code ~= T_HELLO and code ~= T_WELCOME and t.seq == ZERO and seq ~= UInt64(0) then
        seq_item:add_tvb_expert_info(e_bad_field, tvb(8, 8), t.name .. " seq is not 0")
    end
    if (code == T_REFUSED or code == T_PROOF or code == T_TOKEN) and ack ~= UInt64(0) then
        ack_item:add_tvb_expert_info(e_bad_field, tvb(16, 8), t.name .. " ack is not 0")
    end

    local text
    local payload = payload_len > 0 and tvb(HEADER_SIZE) or nil
    if not t.sealed then
        local pt = tree:add(tvb(HEADER_SIZE, payload_len), t.name .. " payload (in clear)")
        if not length_ok or (code == T_HELLO and payload_len < HELLO_MIN)
            or (code == T_WELCOME and payload_len < WELCOME_FIXED) or payload_len < 1 then
            -- A length a peer refuses: its fields cannot be placed; show the bytes only.
            if payload then pt:add(f.not_interpreted, payload) end
            text = t.name .. " (malformed, length " .. length .. ")"
        elseif code == T_HELLO then
            text = dissect_hello(payload:tvb(), pinfo, pt, ack)
        elseif code == T_WELCOME then
            text = dissect_welcome(payload:tvb(), pinfo, pt, ack)
        else
            text = dissect_refused(payload:tvb(), pinfo, pt)
        end
    else
        local ct = math.max(payload_len - TAG_SIZE, 0)
        tree:add(f.plaintext_length, ct):set_generated()
        if payload_len >= TAG_SIZE then
            local label = "Sealed payload: sealed (" .. ct .. " bytes of ciphertext + 16-byte tag)"
            local st = tree:add(f.sealed_payload, tvb(HEADER_SIZE, payload_len)):set_text(label)
            if ct > 0 then
                local what = SEALED_CONTENT[code]
                st:add(f.ciphertext, tvb(HEADER_SIZE, ct)):append_text(what and (" (" .. what .. ", encrypted)") or "")
            end
            st:add(f.gcm_tag, tvb(HEADER_SIZE + ct, TAG_SIZE))
        elseif payload then
            tree:add(f.not_interpreted, payload)
        end
        if code == T_DATA then
            text = "DATA seq=" .. tostring(seq) .. " ack=" .. tostring(ack) .. " len=" .. ct
        elseif code == T_PROOF or code == T_TOKEN then
            text = t.name
        else
            text = t.name .. " seq=" .. tostring(seq) .. " ack=" .. tostring(ack)
        end
    end
    tree:append_text(": " .. text)
    info(pinfo, text)
    return total
end

function p.dissector(tvb, pinfo, tree)
    if tvb:len() == 0 then return 0 end
    dissect_tcp_pdus(tvb, tree, HEADER_SIZE, frame_length, dissect_frame, true)
    return tvb:len()
end

-- Also found on other ports when a connection starts with a version-3 frame of a known type
-- (in clear, that is a HELLO from cproxy or sproxy's answer).
local function heuristic(tvb, pinfo, tree)
    if tvb:len() < 4 or tvb(0, 2):uint() ~= MAGIC or tvb(2, 1):uint() ~= VERSION then return false end
    local code = tvb(3, 1):uint()
    if code ~= T_HELLO and code ~= T_WELCOME and code ~= T_REFUSED then return false end
    pinfo.conversation = p
    p.dissector(tvb, pinfo, tree)
    return true
end

DissectorTable.get("tcp.port"):add(PORT, p)
p:register_heuristic("tcp", heuristic)
