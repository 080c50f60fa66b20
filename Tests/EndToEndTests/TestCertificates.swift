import Foundation
import Testing

/// A throwaway certificate authority and a server certificate it signed for `localhost` and
/// 127.0.0.1, made by openssl(1) in `folder`: what a TLS-intercepting proxy's CA looks like to
/// the tool. A failing openssl fails the test.
struct TestCertificates {
    /// The CA's certificate (PEM): what `api.ca_file` names.
    let authority: String
    /// The server's certificate and key (PEM), for `simulate --tls-certificate/--tls-key`.
    let certificate: String
    let key: String

    init(in folder: String) throws {
        authority = folder + "/ca.pem"
        certificate = folder + "/server.pem"
        key = folder + "/server.key"
        let extensions = folder + "/server.ext"
        _ = FileManager.default.createFile(
            atPath: extensions,
            contents: Data(
                "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                    .utf8))
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(
            ["req", "-x509"] + curve + [
                "-keyout", folder + "/ca.key", "-out", authority, "-days", "2", "-subj", "/CN=verilock test CA",
            ])
        try Self.openssl(
            ["req"] + curve + ["-keyout", key, "-out", folder + "/server.csr", "-subj", "/CN=localhost"])
        try Self.openssl([
            "x509", "-req", "-in", folder + "/server.csr", "-CA", authority, "-CAkey", folder + "/ca.key",
            "-CAcreateserial", "-out", certificate, "-days", "2", "-extfile", extensions,
        ])
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl \(arguments.joined(separator: " ")) failed")
    }
}
