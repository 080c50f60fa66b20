/// `NO_PROXY` as curl reads it: comma-separated host names (each also matching its subdomains;
/// a leading dot is ignored), IP addresses, IPv4 ranges in CIDR form (`10.0.0.0/8`), or `*` for
/// every host. Case does not matter; blank entries are skipped.
struct NoProxyList: Sendable, Equatable {
    private enum Entry: Equatable {
        case everyHost
        case name(String)
        case ipv4Range(network: UInt32, mask: UInt32)
    }

    private var entries: [Entry] = []

    /// Parses the variable's value.
    init(_ text: String) {
        for part in text.split(separator: ",") {
            var entry = part.trimmingCharacters(in: .whitespaces).lowercased()
            if entry == "*" {
                entries.append(.everyHost)
                continue
            }
            while entry.hasPrefix(".") { entry.removeFirst() }
            if entry.hasPrefix("[") && entry.hasSuffix("]") { entry = String(entry.dropFirst().dropLast()) }
            guard !entry.isEmpty else { continue }
            if let slash = entry.firstIndex(of: "/"), let bits = Int(entry[entry.index(after: slash)...]),
                (0...32).contains(bits), let network = Self.ipv4(String(entry[..<slash]))
            {
                let mask: UInt32 = bits == 0 ? 0 : UInt32.max << (32 - bits)
                entries.append(.ipv4Range(network: network & mask, mask: mask))
            } else {
                entries.append(.name(entry))
            }
        }
    }

    /// Whether a request to `host` goes direct.
    func matches(host: String) -> Bool {
        var host = host.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        while host.hasSuffix(".") { host.removeLast() }
        let address = Self.ipv4(host)
        return entries.contains { entry in
            switch entry {
            case .everyHost:
                true
            case .name(let name):
                host == name || (address == nil && host.hasSuffix("." + name))
            case .ipv4Range(let network, let mask):
                address.map { $0 & mask == network } ?? false
            }
        }
    }

    /// A dotted-quad IPv4 address as a number; nil for anything else.
    private static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}
