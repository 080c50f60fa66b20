import Crypto

/// SHA-256 (FIPS 180-4), for payload fingerprints, Idempotency-Keys and the digests of input
/// files: swift-crypto's (BoringSSL on Linux), behind the few operations this tool uses.
public struct SHA256: Sendable {
    private var hash = Crypto.SHA256()

    /// A fresh hash.
    public init() {}

    /// The hex digest of `bytes`.
    public static func hexDigest(_ bytes: some Sequence<UInt8>) -> String {
        var hash = SHA256()
        hash.update(bytes)
        return hash.finalizeHex()
    }

    /// Adds `bytes` to the hash.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil { hash.update(data: Array(bytes)) }
    }

    /// Adds contiguous bytes (an input file's chunk as it streams).
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hash.update(bufferPointer: bytes)
    }

    /// Finishes the hash and returns the 32-byte digest.
    public func finalize() -> [UInt8] {
        Array(hash.finalize())
    }

    /// Finishes the hash and returns the digest as 64 lowercase hex digits.
    public func finalizeHex() -> String {
        Self.hex(finalize())
    }

    /// `bytes` as lowercase hex digits.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
