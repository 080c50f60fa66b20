/// The records of one input file, with the mapper for its layout.
struct RecordSource {
    private enum Reader {
        case csv(CSVReader)
        case ndjson(NDJSONReader)
    }

    private var reader: Reader
    let mapper: RowMapper

    init(source: ByteChunkReader, format: InputFormat, job: JobConfiguration) throws {
        switch format {
        case .ndjson:
            reader = .ndjson(NDJSONReader(source: source))
            mapper = RowMapper(ndjsonMapping: job.mapping)
        case .csv, .auto:
            let csv = try CSVReader(source: source, delimiter: job.delimiter)
            mapper = try RowMapper(csvHeader: csv.header, mapping: job.mapping, path: source.path)
            reader = .csv(csv)
        }
    }

    mutating func next() throws -> RawRecord? {
        switch reader {
        case .csv(var csv):
            defer { reader = .csv(csv) }
            return try csv.next()
        case .ndjson(var ndjson):
            defer { reader = .ndjson(ndjson) }
            return try ndjson.next()
        }
    }
}
