import ModelStore

/// An Open Inference Protocol infer response, ready to encode as JSON or with Triton's binary
/// tensor data extension.
public struct InferenceResponse: Sendable {
    /// One output tensor.
    public struct Output: Sendable {
        public var name: String
        public var shape: [Int]
        public var data: TensorData
        /// Send the data after the JSON header instead of inside it.
        public var binary: Bool

        public init(name: String, shape: [Int], data: TensorData, binary: Bool) {
            self.name = name
            self.shape = shape
            self.data = data
            self.binary = binary
        }
    }

    public var modelName: String
    public var modelVersion: String
    public var id: String?
    public var outputs: [Output]

    public init(modelName: String, modelVersion: String, id: String?, outputs: [Output]) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.id = id
        self.outputs = outputs
    }

    /// The encoded body and, when any output is binary, the JSON header's length for the
    /// `Inference-Header-Content-Length` response header.
    public func encoded() -> (body: [UInt8], jsonLength: Int?) {
        // Written as bytes, the binary tensors after the header: one buffer, no intermediate text.
        var body: [UInt8] = []
        body.reserveCapacity(192 + outputs.reduce(0) { $0 + ($1.binary ? $1.data.binaryCount : 0) })
        func append(_ text: String) { body.append(contentsOf: text.utf8) }
        append("{\"model_name\":\(JSONString.literal(modelName)),\"model_version\":\(JSONString.literal(modelVersion))")
        if let id { append(",\"id\":\(JSONString.literal(id))") }
        append(",\"outputs\":[")
        for (i, output) in outputs.enumerated() {
            if i > 0 { append(",") }
            append("{\"name\":\(JSONString.literal(output.name)),\"datatype\":\"\(output.data.datatype)\",\"shape\":[")
            for (d, dim) in output.shape.enumerated() { append(d == 0 ? String(dim) : "," + String(dim)) }
            if output.binary {
                append("],\"parameters\":{\"binary_data_size\":\(output.data.binaryCount)}}")
            } else {
                append("],\"data\":\(output.data.jsonEncoded())}")
            }
        }
        append("]}")
        let headerLength = body.count
        for output in outputs where output.binary { output.data.appendBinary(to: &body) }
        return (body, outputs.contains(where: \.binary) ? headerLength : nil)
    }
}

extension TensorData {
    /// The size of `appendBinary`'s bytes.
    var binaryCount: Int {
        switch self {
        case .fp32(let values): return values.count * 4
        case .uint8(let values): return values.count
        case .bytes(let elements): return elements.reduce(0) { $0 + 4 + $1.count }
        }
    }

    /// Appends the elements little-endian; BYTES elements each behind a 4-byte little-endian length.
    func appendBinary(to out: inout [UInt8]) {
        switch self {
        case .fp32(let values): values.withUnsafeBytes { out.append(contentsOf: $0) }
        case .uint8(let values): out.append(contentsOf: values)
        case .bytes(let elements):
            for element in elements {
                let n = UInt32(element.count)
                out.append(contentsOf: [UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)])
                out.append(contentsOf: element)
            }
        }
    }

    /// A flat JSON array.
    func jsonEncoded() -> String {
        switch self {
        case .fp32(let values): return "[" + values.map { JSONText.number($0) }.joined(separator: ",") + "]"
        case .uint8(let values): return "[" + values.map(String.init).joined(separator: ",") + "]"
        case .bytes(let elements):
            return "[" + elements.map { JSONString.literal(String(decoding: $0, as: UTF8.self)) }.joined(separator: ",") + "]"
        }
    }
}

/// Numbers in JSON written by hand, where speed and exact number format matter; strings go
/// through `JSONString.literal`.
enum JSONText {
    /// The shortest text that reads back as the same Float; non-finite values become null.
    static func number(_ value: Float) -> String {
        // `description` directly: interpolation would build the text through a TextOutputStream.
        value.isFinite ? value.description : "null"
    }
}
