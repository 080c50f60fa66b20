import Foundation
import Testing
import VerilockSimulator

/// The same applicants saved the ways spreadsheets and old systems save them (bare-CR line ends,
/// UTF-16 with and without a byte-order mark, Windows-1252, ISO-8859-1) give, through the
/// binary, the same sessions and the same output rows as their UTF-8 LF twin (each run has its
/// own ledger, so each sends every row again: the simulator replays the twin's session only
/// for the same body under the same Idempotency-Key); a file in the
/// wrong encoding stops the run with one message and nothing sent.
@Suite("input encodings and line ends through the binary", .serialized)
struct EncodingTwinTests {
    static let profile = BinaryEndToEndTests.profile

    let folder: String = {
        let path = NSTemporaryDirectory() + "verilock-encodings-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// The applicants: accents, a comma and quotes inside a quoted name, Windows-1252's curly
    /// quotes and euro sign (`latin1Only` leaves out what ISO-8859-1 cannot hold, and names its
    /// applicants `l-N`, other people than the `u-N` of the full set).
    static func csv(lineEnd: String, latin1Only: Bool = false) -> String {
        let id = latin1Only ? "l-" : "u-"
        var lines = ["user_id,email,name"]
        for index in 1...40 {
            lines.append("\(id)\(index),user\(index)@example.com,Zoë Müller-Ødegård \(index)")
        }
        lines.append(id + #"41,renee@example.com,"Dupont, Renée ""Q""""#)
        lines.append(id + (latin1Only ? "42,cafe@example.com,Café Señor ½" : "42,euro@example.com,“Curly” Œuvre €"))
        return lines.joined(separator: lineEnd) + lineEnd
    }

    /// Runs the job on `file` (written with `bytes`) and returns the result and its output rows.
    func run(
        _ file: String, bytes: [UInt8], encoding: String?, simulator: SimulatorProcess
    ) async throws -> (BinaryRunner.Result, output: [[String]]) {
        let dir = folder + "/" + file.replacingOccurrences(of: ".", with: "-")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/" + file, contents: Data(bytes))
        let job = """
            name: twin
            input:
              files: [\(file)]
            \(encoding.map { "  encoding: \($0)\n" } ?? "")  columns: {external_id: user_id, applicant_email: email, applicant_name: name}
            session:
              profile_id: \(Self.profile)
            api:
              base_url: \(simulator.baseURL)
              rate_limit: 6000/min
              concurrency: 4
            ledger: ledger.sqlite
            output: {file: out.csv}
            rejects: rejects.csv

            """
        _ = FileManager.default.createFile(atPath: dir + "/job.yaml", contents: Data(job.utf8))
        let result = try await BinaryRunner.run(
            ["run", dir + "/job.yaml"], environment: ["VERILOCK_API_KEY": SimulatorConfiguration.defaultAPIKey])
        guard result.exitCode == 0 else { return (result, []) }
        let rejects = try BinaryEndToEndTests.csvRows(dir + "/rejects.csv")
        #expect(rejects.count == 1, "\(file): rejects \(rejects)")
        return (result, try BinaryEndToEndTests.csvRows(dir + "/out.csv"))
    }

    @Test("CR-only, UTF-16 (LE, BE, no mark), Windows-1252 and ISO-8859-1 files give the sessions of their UTF-8 twin")
    func twins() async throws {
        let simulator = try await SimulatorProcess(["--profiles", Self.profile, "--rate-limit", "6000/min"])
        let unicode = Self.csv(lineEnd: "\n")
        let (twinResult, twin) = try await run(
            "twin.csv", bytes: Array(unicode.utf8), encoding: nil, simulator: simulator)
        #expect(twinResult.exitCode == 0, "stderr: \(twinResult.stderr)")
        try #require(twin.count == 43)
        #expect(twin[41][2] == #"Dupont, Renée "Q""#)
        #expect(twin[42][2] == "“Curly” Œuvre €")
        // Applicant, session id and link: the same request body under the same Idempotency-Key
        // is a replay of the twin's session; any other body would be refused with a 422.
        let people = twin.map { Array($0[0..<5]) }

        let latin1 = Self.csv(lineEnd: "\r\n", latin1Only: true)
        let latin1Twin = try await run(
            "latin1-twin.csv", bytes: Array(latin1.utf8), encoding: nil, simulator: simulator)
        #expect(latin1Twin.0.exitCode == 0)

        let variants: [(file: String, bytes: [UInt8], encoding: String?, expected: [[String]])] = [
            ("cr.csv", Array(Self.csv(lineEnd: "\r").utf8), nil, people),
            ("utf16le.csv", [0xFF, 0xFE] + Self.utf16(unicode, bigEndian: false), nil, people),
            ("utf16be.csv", [0xFE, 0xFF] + Self.utf16(unicode, bigEndian: true), nil, people),
            ("utf16-nomark.csv", Self.utf16(unicode, bigEndian: false), "utf-16", people),
            ("utf16be-nomark.csv", Self.utf16(Self.csv(lineEnd: "\r\n"), bigEndian: true), "utf-16", people),
            ("cp1252.csv", Self.singleByte(Self.csv(lineEnd: "\r\n"), windows1252: true), "windows-1252", people),
            (
                "latin1.csv", Self.singleByte(latin1, windows1252: false), "iso-8859-1",
                latin1Twin.output.map { Array($0[0..<5]) }
            ),
        ]
        let before = try await simulator.stats()
        #expect(before.sessionsCreated == 84)
        var replays = before.idempotentReplays
        for variant in variants {
            let (result, output) = try await run(
                variant.file, bytes: variant.bytes, encoding: variant.encoding, simulator: simulator)
            #expect(result.exitCode == 0, "\(variant.file): \(result.stderr)")
            #expect(output.map { Array($0[0..<5]) } == variant.expected, "\(variant.file)")
            let stats = try await simulator.stats()
            #expect(stats.sessionsCreated == 84, "\(variant.file)")
            #expect(stats.validationErrors == 0, "\(variant.file)")
            #expect(stats.idempotentReplays == replays + 42, "\(variant.file)")
            replays = stats.idempotentReplays
        }
        await simulator.stop()
    }

    @Test("a Windows-1252 or UTF-16 file read as UTF-8 stops the run with one message naming the encoding")
    func wrongEncoding() async throws {
        let simulator = try await SimulatorProcess(["--profiles", Self.profile, "--rate-limit", "6000/min"])
        let cp1252 = try await run(
            "cp1252.csv", bytes: Self.singleByte(Self.csv(lineEnd: "\n"), windows1252: true), encoding: nil,
            simulator: simulator)
        #expect(cp1252.0.exitCode == 65)
        // Line 2 holds the first ë; its byte, the likely encoding and the setting are named.
        #expect(cp1252.0.stderr.contains("cp1252.csv:2: the file is not UTF-8: byte 0xEB"))
        #expect(cp1252.0.stderr.contains("input.encoding: windows-1252"))
        #expect(cp1252.0.stderr.components(separatedBy: "not UTF-8").count == 2)

        let utf16 = try await run(
            "utf16.csv", bytes: Self.utf16(Self.csv(lineEnd: "\n"), bigEndian: false), encoding: nil,
            simulator: simulator)
        #expect(utf16.0.exitCode == 65)
        #expect(utf16.0.stderr.contains("input.encoding: utf-16"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/utf16-csv/out.csv"))
        #expect(try await simulator.stats().requests == 0)
        await simulator.stop()
    }

    static func utf16(_ text: String, bigEndian: Bool) -> [UInt8] {
        text.utf16.flatMap { unit in
            let high = UInt8(unit >> 8)
            let low = UInt8(unit & 0xFF)
            return bigEndian ? [high, low] : [low, high]
        }
    }

    static func singleByte(_ text: String, windows1252: Bool) -> [UInt8] {
        text.unicodeScalars.map { scalar in
            if scalar.value < 0x80 || (!windows1252 && scalar.value <= 0xFF)
                || (scalar.value >= 0xA0 && scalar.value <= 0xFF)
            {
                return UInt8(scalar.value)
            }
            let high = [0x20AC: 0x80, 0x201C: 0x93, 0x201D: 0x94, 0x0152: 0x8C]
            return UInt8(high[Int(scalar.value)] ?? 0x3F)
        }
    }
}
