import Testing

@testable import VerilockBatch

@Suite("Job files")
struct JobLoaderTests {
    let folder = TemporaryDirectory()

    func load(_ yaml: String, overrides: JobOverrides = JobOverrides()) throws -> JobConfiguration {
        try JobLoader.load(path: folder.write("job.yaml", yaml), overrides: overrides)
    }

    let minimal = """
        name: nightly
        input:
          files: [in/users.csv]
          columns:
            external_id: user_id
            applicant_name: [first, last]
        session:
          profile_id: 7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47
          metadata: {source: nightly, batch: 3}
        api:
          base_url: https://verilock.io/api/v1
          rate_limit: 120/min
          timeout: 10s
        ledger: state/n.sqlite
        output:
          file: out/{job}-{date}.csv
        policy:
          reissue_margin: 6h
        """

    @Test("a job file is read with its values; paths are relative to the job file")
    func reads() throws {
        let job = try load(minimal)
        #expect(job.name == "nightly")
        #expect(job.inputs == [folder.path + "/in/users.csv"])
        #expect(job.mapping.sources[.applicantName] == ["first", "last"])
        #expect(job.mapping.sources[.applicantEmail] == ["applicant_email"])
        #expect(job.template.metadata == ["source": .string("nightly"), "batch": .integer(3)])
        #expect(job.api.rateLimit == RateLimit(requestsPerSecond: 2))
        #expect(job.api.timeout == .seconds(10))
        #expect(job.ledgerPath == folder.path + "/state/n.sqlite")
        #expect(job.policy.reissueMargin == .seconds(6 * 3600))
    }

    @Test("an unknown key is an error naming the key, the file and the line")
    func unknownKey() throws {
        let yaml = minimal.replacingOccurrences(of: "  rate_limit: 120/min", with: "  rate_limmit: 120/min")
        do {
            _ = try load(yaml)
            Issue.record("expected an error")
        } catch let error as JobError {
            #expect(error.description.hasPrefix(folder.path + "/job.yaml:12: unknown key 'api.rate_limmit'"))
        }
    }

    @Test("an API key in a job file is refused with a message saying where it goes")
    func secretRefused() throws {
        let yaml = minimal.replacingOccurrences(of: "  timeout: 10s", with: "  api_key: qi_live_secret")
        do {
            _ = try load(yaml)
            Issue.record("expected an error")
        } catch let error as JobError {
            #expect(error.description.contains("VERILOCK_API_KEY"))
            #expect(!error.description.contains("qi_live_secret"))
        }
    }

    @Test("flags override the file")
    func overrides() throws {
        var overrides = JobOverrides()
        overrides.inputs = ["/data/x.csv"]
        overrides.concurrency = 16
        overrides.rateLimit = RateLimit(parsing: "5/s")
        overrides.profileID = "00000000-0000-4000-8000-000000000000"
        let job = try load(minimal, overrides: overrides)
        #expect(job.inputs == ["/data/x.csv"])
        #expect(job.api.concurrency == 16)
        #expect(job.api.rateLimit.requestsPerSecond == 5)
        #expect(job.template.profileID == "00000000-0000-4000-8000-000000000000")
    }

    @Test(
        "invalid values are refused",
        arguments: [
            ("  profile_id: 7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47", "  profile_id: not-a-uuid", "is not a UUID"),
            ("  base_url: https://verilock.io/api/v1", "  base_url: http://verilock.io/api/v1", "must be an https URL"),
            ("  rate_limit: 120/min", "  rate_limit: fast", "is not a rate"),
            ("  timeout: 10s", "  timeout: soon", "is not a duration"),
        ])
    func invalidValues(original: String, replacement: String, message: String) throws {
        do {
            _ = try load(minimal.replacingOccurrences(of: original, with: replacement))
            Issue.record("expected an error")
        } catch let error as JobError {
            #expect(error.description.contains(message))
        }
    }

    @Test("without a job file, the flags alone make a job")
    func flagsOnly() throws {
        var overrides = JobOverrides()
        overrides.inputs = ["users.csv"]
        overrides.profileID = "7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47"
        let job = try JobLoader.load(path: nil, overrides: overrides)
        #expect(job.inputs == ["users.csv"])
        #expect(throws: JobError.self) { try JobLoader.load(path: nil, overrides: JobOverrides()) }
    }

    @Test("loopback http is allowed, other http is not")
    func baseURLs() throws {
        #expect(
            try APISettings.validateBaseURL("http://127.0.0.1:8080/api/v1").absoluteString
                == "http://127.0.0.1:8080/api/v1")
        #expect(try APISettings.validateBaseURL("http://localhost/api/v1").host == "localhost")
        #expect(throws: APIError.self) { _ = try APISettings.validateBaseURL("http://10.0.0.1/api/v1") }
        #expect(throws: APIError.self) { _ = try APISettings.validateBaseURL("ftp://verilock.io") }
    }

    @Test("rates and durations parse", arguments: [("120/min", 2.0), ("5/s", 5.0), ("7200/h", 2.0)])
    func rates(text: String, perSecond: Double) {
        #expect(RateLimit(parsing: text)?.requestsPerSecond == perSecond)
    }
}

@Suite("Job files that try to hurt")
struct HostileJobTests {
    static let head =
        "name: t\ninput:\n  files: [in.csv]\nsession:\n  profile_id: 7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47\n"

    @Test("nested YAML aliases are refused before they expand")
    func aliasBomb() throws {
        var lines = [Self.head + "  metadata:", #"    a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]"#]
        for level in 1...9 {
            lines.append(
                "    a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",")
                    + "]")
        }
        var job = JobConfiguration()
        do {
            try JobLoader.apply(yaml: lines.joined(separator: "\n") + "\n", file: "bomb.yaml", to: &job)
            Issue.record("the alias bomb was accepted")
        } catch {
            #expect(error.description.contains("aliases"))
            #expect(ExitStatus(for: error) == .invalidJob)
        }
    }

    @Test(
        "an alias of a plain value is refused too",
        arguments: ["  redirect_url: &u https://a.example\n  metadata: {x: *u}\n"])
    func simpleAlias(session: String) throws {
        var job = JobConfiguration()
        #expect(throws: JobError.self) { try JobLoader.apply(yaml: Self.head + session, file: "a.yaml", to: &job) }
    }

    @Test("job metadata over 16 KiB is refused like a row's", arguments: [17 * 1024])
    func bigTemplateMetadata(size: Int) throws {
        var job = JobConfiguration()
        try JobLoader.apply(
            yaml: Self.head + "  metadata: {blob: \"\(String(repeating: "a", count: size))\"}\n", file: "a.yaml",
            to: &job)
        job.inputs = ["in.csv"]
        #expect(throws: JobError.self) { try JobLoader.check(job, file: "a.yaml") }
    }

    @Test("a ledger path with {date} or {run}, or naming a folder, is refused; so is a job file over 1 MiB")
    func ledgerPlaceholders() throws {
        let folder = TemporaryDirectory()
        for placeholder in ["{date}", "{run}"] {
            let job = folder.write("j.yaml", "input: {files: [a.csv]}\nledger: state/x-\(placeholder).sqlite\n")
            #expect {
                _ = try JobLoader.load(path: job, overrides: JobOverrides(), forRun: false)
            } throws: { error in
                "\(error)".contains("ledger: \(placeholder) makes a new ledger")
            }
            var overrides = JobOverrides()
            overrides.ledger = "x-\(placeholder).sqlite"
            overrides.inputs = ["a.csv"]
            #expect(throws: JobError.self) { _ = try JobLoader.load(path: nil, overrides: overrides) }
        }
        for folderLike in [".", "state/", folder.path, "a/.."] {
            var overrides = JobOverrides()
            overrides.ledger = folderLike
            #expect(throws: JobError.self, "\(folderLike)") {
                _ = try JobLoader.load(path: nil, overrides: overrides, forRun: false)
            }
        }
        let huge = folder.write(
            "huge.yaml", "# " + String(repeating: "x", count: JobLoader.maxJobFileBytes) + "\nname: x\n")
        #expect(throws: JobError.self) { _ = try JobLoader.load(path: huge, overrides: JobOverrides(), forRun: false) }
        var fixed = JobOverrides()
        fixed.ledger = "state/{job}.sqlite"
        #expect(try JobLoader.load(path: nil, overrides: fixed, forRun: false).ledgerPath == "state/{job}.sqlite")
    }

    @Test("a job name is a file name", arguments: ["../up", "a/b", "..", ".", "tab\there", ""])
    func badNames(name: String) throws {
        var job = JobConfiguration()
        try JobLoader.apply(yaml: Self.head, file: "a.yaml", to: &job)
        job.name = name
        #expect(throws: JobError.self) { try JobLoader.check(job, file: "a.yaml") }
    }
}
