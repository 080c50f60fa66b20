import Testing

@testable import VerilockBatch

@Suite("Request body and idempotency key")
struct SessionTemplateTests {
    let template = SessionTemplate(
        profileID: "7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47",
        redirectURL: "https://example.com/done",
        expiresIn: 86400,
        metadata: ["source": .string("import"), "plan": .string("default")]
    )

    @Test("the body has only fields with values, keys sorted, row values over the template's")
    func body() {
        let row = ApplicantRow(
            externalID: "u-1", email: "a@example.com", expiresIn: 600, metadata: ["plan": .string("pro")])
        let body = String(decoding: template.requestBody(for: row), as: UTF8.self)
        #expect(
            body == #"{"applicant_email":"a@example.com","expires_in":600,"external_id":"u-1","#
                + #""metadata":{"plan":"pro","source":"import"},"#
                + #""profile_id":"7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47","redirect_url":"https://example.com/done"}"#)
    }

    @Test("a minimal template sends no optional field")
    func minimal() {
        let body = SessionTemplate(profileID: "p").requestBody(for: ApplicantRow(externalID: "x\"y"))
        #expect(String(decoding: body, as: UTF8.self) == #"{"external_id":"x\"y","profile_id":"p"}"#)
    }

    @Test("the key is the same for the same create and differs by generation, id and profile")
    func idempotencyKey() {
        let key = template.idempotencyKey(externalID: "u-1", generation: 1)
        #expect(key == template.idempotencyKey(externalID: "u-1", generation: 1))
        #expect(key.hasPrefix("vb1-") && key.count == 68)
        #expect(key != template.idempotencyKey(externalID: "u-1", generation: 2))
        #expect(key != template.idempotencyKey(externalID: "u-2", generation: 1))
        #expect(key != SessionTemplate(profileID: "other").idempotencyKey(externalID: "u-1", generation: 1))
    }

    /// Keys computed outside this code (Python's hashlib, over the documented derivation):
    /// ledgers settle pending creates with these keys, so they must never change.
    @Test(
        "Idempotency-Keys of fixed creates are pinned, byte for byte",
        arguments: [
            ("u-1", 1, "vb1-78469c2c3fd6e213060d7c7a6893dd9a7044a4f9254924b0cbeccc2449fcac83"),
            ("u-1", 2, "vb1-44129df2f7e465cfad10edc89b8030a732b96fb7e02b1b4c1fb488d1c364e7d2"),
            ("jos\u{E9}", 1, "vb1-641259de726ea2cd6508499e12eee3fe8c0547aa38a45443a61d35938594afe3"),
            ("x\"y", 3, "vb1-b6a49c2869aa8cc9f685d23585d88ac3f26dd92fa75038b77ff9ad6236e6aa3c"),
            ("\u{1F600}-42", 12, "vb1-ef6944bc22e832b3c643ccc205771b1f7da01862a6440bc7f543484091f1cdeb"),
        ])
    func pinnedKeys(externalID: String, generation: Int, key: String) {
        // The profile id is lower-cased before hashing.
        let upper = SessionTemplate(profileID: "7F3C2A10-5d4e-4b8a-9c61-2e0f8d9b3a47")
        #expect(upper.idempotencyKey(externalID: externalID, generation: generation) == key)
    }

    @Test("the fingerprint of a fixed row's body is pinned (Python's hashlib over the same bytes)")
    func pinnedFingerprint() {
        let row = ApplicantRow(
            externalID: "u-1", email: "a@example.com", expiresIn: 600, metadata: ["plan": .string("pro")])
        #expect(
            SHA256.hexDigest(template.requestBody(for: row))
                == "88adf4203f7f4cebd33bccb5c3e9788931c79ea6b10497c7989a20869d02b993")
    }

    @Test(
        "SHA-256 matches the FIPS 180-4 test vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
        ])
    func sha256(input: String, digest: String) {
        #expect(SHA256.hexDigest(input.utf8) == digest)
    }

    @Test("SHA-256 of a million 'a' (crosses many blocks)")
    func sha256Long() {
        #expect(
            SHA256.hexDigest(repeatElement(UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
