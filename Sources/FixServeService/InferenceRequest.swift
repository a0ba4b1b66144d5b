import Foundation
import JSONParser

/// A decoded Open Inference Protocol (v2) infer request, JSON or with Triton's binary tensor
/// data extension.
public struct InferenceRequest: Sendable {
    /// One input tensor as sent.
    public struct Input: Sendable {
        public var name: String
        /// Dimensions; the element count has been checked against the data.
        public var shape: [Int]
        public var data: TensorData
    }

    /// One requested output.
    public struct Output: Sendable, Equatable {
        public var name: String
        /// Whether the client asked for the output in binary form.
        public var binary: Bool
        /// The classification extension: return the top `k` as "score:index:label" strings.
        public var classification: Int?
    }

    public var id: String?
    public var inputs: [Input]
    /// The outputs named; empty means every output.
    public var outputs: [Output]
    /// The request-level `binary_data_output` parameter.
    public var binaryOutputsByDefault: Bool

    /// The outputs to answer: those named or, when none are, every output a served model has
    /// (logits and probabilities), binary when `binary_data_output` asks so.
    public var requestedOutputs: [Output] {
        guard outputs.isEmpty else { return outputs }
        return ["logits", "probabilities"].map { Output(name: $0, binary: binaryOutputsByDefault, classification: nil) }
    }
}

/// The elements of a tensor, by datatype.
public enum TensorData: Sendable {
    case fp32([Float])
    case uint8([UInt8])
    /// BYTES: one byte string per element.
    case bytes([[UInt8]])

    /// The protocol's name for the datatype.
    public var datatype: String {
        switch self {
        case .fp32: return "FP32"
        case .uint8: return "UINT8"
        case .bytes: return "BYTES"
        }
    }
}

extension InferenceRequest {
    /// Limits that keep one request from exhausting the server.
    public struct Limits: Sendable {
        /// The most elements one input may declare.
        public var maxElements = 64 * 1024 * 1024
        /// The most nesting of JSON arrays and objects.
        public var maxJSONDepth = 32
        public init() {}
    }

    /// Decodes a request body.
    ///
    /// - Parameters:
    ///   - headerLength: the `Inference-Header-Content-Length` header, when present: the JSON part's
    ///     length, binary tensor data following it.
    /// - Throws: `ServiceError` (400) naming the field and the problem.
    public static func decode(body: [UInt8], headerLength: Int?, limits: Limits = Limits()) throws -> InferenceRequest {
        let jsonLength = headerLength ?? body.count
        guard jsonLength >= 0, jsonLength <= body.count else {
            throw ServiceError.badRequest(
                "Inference-Header-Content-Length is \(jsonLength) but the body holds \(body.count) bytes")
        }
        guard jsonLength > 0 else { throw ServiceError.badRequest("the request body is empty; expected a JSON inference request") }
        let json = body[0..<jsonLength]
        let root: JSONValue
        do {
            root = try JSONValue.parse(json, maxDepth: limits.maxJSONDepth)
        } catch let error as JSONParseError {
            throw ServiceError.badRequest("the request body is not valid JSON: \(error)")
        }
        guard case .object = root else {
            throw ServiceError.badRequest("the request body must be a JSON object with an \"inputs\" array")
        }
        guard let rawInputs = root["inputs"]?.elements, !rawInputs.isEmpty else {
            throw ServiceError.badRequest("\"inputs\" must be a non-empty array of tensors")
        }
        var binary = BinaryCursor(bytes: body, offset: jsonLength)
        var inputs: [Input] = []
        for (index, raw) in rawInputs.enumerated() {
            inputs.append(try decodeInput(raw, index: index, binary: &binary, limits: limits))
        }
        guard binary.offset == body.count else {
            throw ServiceError.badRequest(
                "\(body.count - binary.offset) bytes of binary data follow the JSON header but no input claims them (check binary_data_size)")
        }
        let binaryDefault = root["parameters"]?["binary_data_output"]?.bool ?? false
        var outputs: [Output] = []
        if let rawOutputs = root["outputs"] {
            guard let list = rawOutputs.elements else { throw ServiceError.badRequest("\"outputs\" must be an array") }
            for (index, entry) in list.enumerated() {
                guard let name = entry["name"]?.string else {
                    throw ServiceError.badRequest("outputs[\(index)] must be an object with a \"name\"")
                }
                let params = entry["parameters"]
                var classification: Int?
                if let k = params?["classification"] {
                    guard let value = k.exactInt, value > 0 else {
                        throw ServiceError.badRequest("outputs[\(index)].parameters.classification must be a positive integer")
                    }
                    classification = value
                }
                outputs.append(Output(
                    name: name, binary: params?["binary_data"]?.bool ?? binaryDefault, classification: classification))
            }
        }
        return InferenceRequest(
            id: root["id"]?.string, inputs: inputs, outputs: outputs, binaryOutputsByDefault: binaryDefault)
    }

    private static func decodeInput(
        _ entry: JSONValue, index: Int, binary: inout BinaryCursor, limits: Limits
    ) throws -> Input {
        guard case .object = entry else { throw ServiceError.badRequest("inputs[\(index)] must be an object") }
        guard let name = entry["name"]?.string else { throw ServiceError.badRequest("inputs[\(index)] has no \"name\"") }
        let field = "input '\(name)'"
        guard let rawShape = entry["shape"]?.elements else { throw ServiceError.badRequest("\(field) has no \"shape\" array") }
        var shape: [Int] = []
        var elements = 1
        // Only an error message needs the shape as text.
        func shapeText() -> String { "[" + rawShape.map(\.summary).joined(separator: ", ") + "]" }
        for dim in rawShape {
            guard let d = dim.exactInt, d >= 0 else {
                throw ServiceError.badRequest("\(field): shape \(shapeText()) must hold non-negative integers")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow, product <= limits.maxElements else {
                throw ServiceError.badRequest("\(field): shape \(shapeText()) declares more than \(limits.maxElements) elements")
            }
            shape.append(d)
            elements = product
        }
        guard let datatype = entry["datatype"]?.string else { throw ServiceError.badRequest("\(field) has no \"datatype\"") }
        let data: TensorData
        if let size = entry["parameters"]?["binary_data_size"] {
            guard let byteCount = size.exactInt, byteCount >= 0 else {
                throw ServiceError.badRequest("\(field): binary_data_size must be a non-negative integer")
            }
            guard let bytes = binary.take(byteCount) else {
                throw ServiceError.badRequest(
                    "\(field): binary_data_size is \(byteCount) but only \(binary.remaining) bytes of binary data remain")
            }
            data = try TensorData.decodeBinary(bytes, datatype: datatype, elements: elements, field: field)
        } else {
            guard let values = entry["data"] else { throw ServiceError.badRequest("\(field) has no \"data\"") }
            data = try TensorData.decodeJSON(values, datatype: datatype, elements: elements, field: field)
        }
        return Input(name: name, shape: shape, data: data)
    }
}

/// Reads the binary tensor data that follows the JSON header, in input order.
private struct BinaryCursor {
    let bytes: [UInt8]
    var offset: Int

    var remaining: Int { bytes.count - offset }

    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count <= remaining else { return nil }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }
}
