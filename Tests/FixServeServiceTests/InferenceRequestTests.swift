import Foundation
import Testing
@testable import FixServeService

@Suite struct InferenceRequestTests {
    private func decode(_ json: String, binary: [UInt8] = []) throws -> InferenceRequest {
        let header = Array(json.utf8)
        return try InferenceRequest.decode(body: header + binary, headerLength: binary.isEmpty ? nil : header.count)
    }

    private func expectBadRequest(_ json: String, binary: [UInt8] = [], mentioning words: String) {
        do {
            _ = try decode(json, binary: binary)
            Issue.record("expected a 400 mentioning \(words)")
        } catch let error as ServiceError {
            #expect(error.status == 400)
            #expect(error.message.contains(words), "message: \(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func decodesNestedFP32JSON() throws {
        let request = try decode(#"{"id":"7","inputs":[{"name":"input","shape":[1,2,2],"datatype":"FP32","data":[[[1,2],[3,4.5]]]}]}"#)
        #expect(request.id == "7")
        #expect(request.inputs[0].shape == [1, 2, 2])
        guard case .fp32(let values) = request.inputs[0].data else { Issue.record("not FP32"); return }
        #expect(values == [1, 2, 3, 4.5])
    }

    @Test func decodesBinaryUInt8AndOutputs() throws {
        let json = #"{"inputs":[{"name":"input","shape":[1,3],"datatype":"UINT8","parameters":{"binary_data_size":3}}],"outputs":[{"name":"probabilities","parameters":{"binary_data":true,"classification":2}}]}"#
        let request = try decode(json, binary: [0, 128, 255])
        guard case .uint8(let values) = request.inputs[0].data else { Issue.record("not UINT8"); return }
        #expect(values == [0, 128, 255])
        #expect(request.outputs == [.init(name: "probabilities", binary: true, classification: 2)])
    }

    @Test func decodesBinaryBytes() throws {
        let json = #"{"inputs":[{"name":"input","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":11}}]}"#
        let request = try decode(json, binary: [3, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0])
        guard case .bytes(let values) = request.inputs[0].data else { Issue.record("not BYTES"); return }
        #expect(values == [[1, 2, 3], []])
    }

    @Test func refusesEachMalformedRequest() {
        expectBadRequest("", mentioning: "empty")
        expectBadRequest("{", mentioning: "not valid JSON")
        expectBadRequest(#"{"inputs":[]}"#, mentioning: "non-empty")
        expectBadRequest(#"{"inputs":[{"name":"input","shape":[2],"datatype":"FP32","data":[1]}]}"#, mentioning: "declares 2")
        expectBadRequest(#"{"inputs":[{"name":"input","shape":[2],"datatype":"FP32","data":[1,"2"]}]}"#, mentioning: "expected a number")
        expectBadRequest(#"{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","data":[NaN]}]}"#, mentioning: "not valid JSON")
        expectBadRequest(#"{"inputs":[{"name":"input","shape":[1000,1000,1000],"datatype":"FP32","data":[1]}]}"#, mentioning: "more than")
        expectBadRequest(#"{"inputs":[{"name":"input","shape":[1],"datatype":"INT64","data":[1]}]}"#, mentioning: "not supported")
        expectBadRequest(#"{"inputs":[{"name":"input","shape":[1],"datatype":"UINT8","data":[256]}]}"#, mentioning: "0…255")
        expectBadRequest(#"{"inputs":[{"name":"input","shape":[-1],"datatype":"UINT8","data":[1]}]}"#, mentioning: "non-negative")
        expectBadRequest(String(repeating: "[", count: 100) + String(repeating: "]", count: 100), mentioning: "deeper")
        expectBadRequest(
            #"{"inputs":[{"name":"input","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}"#,
            binary: [0, 0, 0, 0], mentioning: "remain")
        expectBadRequest(
            #"{"inputs":[{"name":"input","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":4}}]}"#,
            binary: [0, 0, 0, 0], mentioning: "expected 8")
        expectBadRequest(
            #"{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":4}}]}"#,
            binary: [0, 0, 0xc0, 0x7f], mentioning: "finite")
    }

    @Test func declaredShapeAllocatesNothingBeforeTheDataIsRead() {
        // A shape of 2^58 elements would ask for 2^63 bytes if reserved up front, and trap.
        var limits = InferenceRequest.Limits()
        limits.maxElements = 1 << 58
        let body = Array(#"{"inputs":[{"name":"a","shape":[\#(1 << 29),\#(1 << 29)],"datatype":"FP32","data":[1]}]}"#.utf8)
        do {
            _ = try InferenceRequest.decode(body: body, headerLength: nil, limits: limits)
            Issue.record("expected a 400")
        } catch let error as ServiceError {
            #expect(error.status == 400)
            #expect(error.message.contains("data holds 1 elements"), "message: \(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func encodesBinaryOutputsAfterTheHeader() throws {
        let response = InferenceResponse(modelName: "m", modelVersion: "1", id: nil, outputs: [
            .init(name: "logits", shape: [1, 2], data: .fp32([1, -2]), binary: true),
            .init(name: "labels", shape: [1, 1], data: .bytes([Array("0.5:1:Trouser".utf8)]), binary: false),
        ])
        let (body, jsonLength) = response.encoded()
        let length = try #require(jsonLength)
        let header = try #require(try JSONSerialization.jsonObject(with: Data(body[0..<length])) as? [String: Any])
        let outputs = try #require(header["outputs"] as? [[String: Any]])
        try #require(outputs.count == 2, "outputs: \(outputs)")
        #expect((outputs[0]["parameters"] as? [String: Any])?["binary_data_size"] as? Int == 8)
        #expect(outputs[1]["data"] as? [String] == ["0.5:1:Trouser"])
        let floats = body[length...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(floats == [1, -2])
    }

    @Test func encodesEveryDatatypeAsJSONAndBytesBehindTheirLengths() throws {
        let response = InferenceResponse(modelName: "fashion \"mnist\"", modelVersion: "2", id: "a\nb", outputs: [
            .init(name: "logits", shape: [1, 3], data: .fp32([1.5, -0.25, .infinity]), binary: false),
            .init(name: "pixels", shape: [2], data: .uint8([0, 255]), binary: false),
            .init(name: "labels", shape: [2], data: .bytes([Array("T-shirt".utf8), []]), binary: true),
        ])
        let (body, jsonLength) = response.encoded()
        let length = try #require(jsonLength)
        let header = try #require(try JSONSerialization.jsonObject(with: Data(body[0..<length])) as? [String: Any])
        #expect(header["model_name"] as? String == "fashion \"mnist\"")
        #expect(header["model_version"] as? String == "2")
        #expect(header["id"] as? String == "a\nb")
        let outputs = try #require(header["outputs"] as? [[String: Any]])
        try #require(outputs.count == 3, "outputs: \(outputs)")
        #expect(outputs.map { $0["datatype"] as? String } == ["FP32", "UINT8", "BYTES"])
        #expect(outputs[0]["shape"] as? [Int] == [1, 3])
        // A non-finite float has no JSON number: it is written as null.
        let logits = try #require(outputs[0]["data"] as? [Any])
        #expect(logits.count == 3)
        #expect(logits[0] as? Double == 1.5 && logits[1] as? Double == -0.25 && logits[2] is NSNull)
        #expect(outputs[1]["data"] as? [Int] == [0, 255])
        #expect((outputs[2]["parameters"] as? [String: Any])?["binary_data_size"] as? Int == 4 + 7 + 4)
        #expect(Array(body[length...]) == [7, 0, 0, 0] + Array("T-shirt".utf8) + [0, 0, 0, 0])
    }
}
