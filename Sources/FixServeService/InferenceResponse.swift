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
        body.reserveCapacity(192 + outputs.reduce(0) { $0 + ($1.binary ? $1.data.binaryCount : $1.data.jsonCapacity) })
        func append(_ text: String) { body.append(contentsOf: text.utf8) }
        append(#"{"model_name":"#)
        JSONString.append(modelName, to: &body)
        append(#","model_version":"#)
        JSONString.append(modelVersion, to: &body)
        if let id {
            append(#","id":"#)
            JSONString.append(id, to: &body)
        }
        append(#","outputs":["#)
        for (i, output) in outputs.enumerated() {
            append(i == 0 ? #"{"name":"# : #",{"name":"#)
            JSONString.append(output.name, to: &body)
            append(#","datatype":""#)
            append(output.data.datatype)
            append(#"","shape":["#)
            for (d, dim) in output.shape.enumerated() {
                if d > 0 { body.append(UInt8(ascii: ",")) }
                append(String(dim))
            }
            if output.binary {
                append(#"],"parameters":{"binary_data_size":"#)
                append(String(output.data.binaryCount))
                append("}}")
            } else {
                append(#"],"data":"#)
                output.data.appendJSON(to: &body)
                append("}")
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
                withUnsafeBytes(of: UInt32(element.count).littleEndian) { out.append(contentsOf: $0) }
                out.append(contentsOf: element)
            }
        }
    }

    /// Bytes to reserve for `appendJSON`'s array: a float's shortest text is at most 15 bytes
    /// and its comma; BYTES are estimated, as escapes may lengthen them.
    var jsonCapacity: Int {
        switch self {
        case .fp32(let values): return 2 + values.count * 16
        case .uint8(let values): return 2 + values.count * 4
        case .bytes(let elements): return elements.reduce(2) { $0 + $1.count + 3 }
        }
    }

    /// Appends the elements as a flat JSON array.
    func appendJSON(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        switch self {
        case .fp32(let values):
            for (i, value) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: JSONText.number(value).utf8)
            }
        case .uint8(let values):
            for (i, value) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: String(value).utf8)
            }
        case .bytes(let elements):
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.append(String(decoding: element, as: UTF8.self), to: &out)
            }
        }
        out.append(UInt8(ascii: "]"))
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
