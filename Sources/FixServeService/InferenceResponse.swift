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
        var json = "{\"model_name\":\(JSONString.literal(modelName)),\"model_version\":\(JSONString.literal(modelVersion))"
        if let id { json += ",\"id\":\(JSONString.literal(id))" }
        json += ",\"outputs\":["
        var binaryTail: [UInt8] = []
        for (i, output) in outputs.enumerated() {
            if i > 0 { json += "," }
            json += "{\"name\":\(JSONString.literal(output.name)),\"datatype\":\"\(output.data.datatype)\""
            json += ",\"shape\":[\(output.shape.map(String.init).joined(separator: ","))]"
            if output.binary {
                let bytes = output.data.binaryEncoded()
                json += ",\"parameters\":{\"binary_data_size\":\(bytes.count)}}"
                binaryTail += bytes
            } else {
                json += ",\"data\":\(output.data.jsonEncoded())}"
            }
        }
        json += "]}"
        let header = Array(json.utf8)
        return outputs.contains(where: \.binary) ? (header + binaryTail, header.count) : (header, nil)
    }
}

extension TensorData {
    /// Little-endian elements; BYTES elements each behind a 4-byte little-endian length.
    func binaryEncoded() -> [UInt8] {
        switch self {
        case .fp32(let values): return values.withUnsafeBytes { Array($0) }
        case .uint8(let values): return values
        case .bytes(let elements):
            var out: [UInt8] = []
            for element in elements {
                let n = UInt32(element.count)
                out += [UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)]
                out += element
            }
            return out
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
