import Foundation
import HTTPServer
import ModelStore
import Numerics

/// TorchServe-style handlers: `POST /predictions/{model}[/{version}]` with an image, `GET /ping`.
extension ModelService {
    static let healthyResponse = constantJSON(#"{"status":"Healthy"}"#)

    func ping() -> HTTPResponse {
        transportIsReady() ? Self.healthyResponse : Self.constantJSON(#"{"status":"Unhealthy"}"#, status: 503)
    }

    /// Classifies one image sent as the raw body (image/png, image/jpeg, application/octet-stream)
    /// or as the multipart form field `data` (or `file`); answers the top 5 as {label: probability}.
    ///
    /// On the caller's (connection's) thread only the route's O(1) checks run: the model, the
    /// media type. The image is found in a form, decoded and normalised straight into the
    /// batch's input when its batch is taken; `completion` gets the response from the thread
    /// that ran the batch, or the error at once. The batch runs on the connection's loop once
    /// the loop has read what is ready (`loop`), when the model's batches fit the loop's time
    /// budget; on the compute queue when they do not.
    func predict(_ request: HTTPRequest, _ parameters: RouteParameters, loop: ConnectionLoop?,
                 completion: @escaping @Sendable (Result<HTTPResponse, Error>) -> Void) {
        let model: LoadedModel<ServedModel>, source: ImageSource
        do {
            model = try served(parameters)
            source = try Self.imageSource(of: request)
        } catch {
            return completion(.failure(error))
        }
        let started = DispatchTime.now()
        let statistics = model.runtime.statistics
        let preprocessor = model.runtime.preprocessor
        let labels = model.runtime.labelLiterals
        model.runtime.infer(rows: 1, placement: loop.map { .afterCurrentWork($0) } ?? .computeQueue, write: { row in
            try preprocessor.write(encodedImage: try source.imageBytes(), into: row)
        }) { result in
            switch result {
            case .success(let answer):
                statistics.recordSuccess(totalNanoseconds: started.nanoseconds(), preprocessingNanoseconds: answer.preparationNanoseconds)
                completion(.success(HTTPResponse(status: 200, headers: .json,
                                                 body: .bytes(Self.topClassesJSON(logits: answer.row(0), labels: labels)))))
            case .failure(let error):
                statistics.recordFailure(totalNanoseconds: started.nanoseconds())
                completion(.failure(error))
            }
        }
    }

    /// `{label: probability, …}` for the 5 most probable classes, keys in descending probability
    /// as TorchServe's image classifier prints them; `labels` are the labels as JSON string
    /// literals. Written straight into bytes, with the probabilities and the ranking on the
    /// stack, as it runs once per answered image: the body is its one allocation.
    static func topClassesJSON(logits: UnsafeBufferPointer<Float>, labels: [[UInt8]], count: Int = 5) -> [UInt8] {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: logits.count) { probabilities in
            _ = Softmax.probabilities(logits, into: probabilities)
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: max(1, min(count, logits.count))) { ranking in
                let ranked = TopK.indices(of: UnsafeBufferPointer(probabilities), into: ranking)
                var body: [UInt8] = []
                // 16 bytes cover a probability's digits and the punctuation around it.
                body.reserveCapacity(2 + (0..<ranked).reduce(0) { $0 + labels[ranking[$1]].count + 16 })
                body.append(UInt8(ascii: "{"))
                for rank in 0..<ranked {
                    if rank > 0 { body.append(UInt8(ascii: ",")) }
                    body.append(contentsOf: labels[ranking[rank]])
                    body.append(UInt8(ascii: ":"))
                    body.append(contentsOf: JSONText.number(probabilities[ranking[rank]]).utf8)
                }
                body.append(UInt8(ascii: "}"))
                return body
            }
        }
    }

    /// The media type of a content-type value, lowercased: what comes before any `;`, without spaces.
    static func mediaType(of contentType: String) -> String {
        let utf8 = contentType.utf8
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var lower = utf8.startIndex, upper = utf8.firstIndex(of: UInt8(ascii: ";")) ?? utf8.endIndex
        while lower < upper, isSpace(utf8[lower]) { lower = utf8.index(after: lower) }
        while upper > lower, isSpace(utf8[utf8.index(before: upper)]) { upper = utf8.index(before: upper) }
        let type = contentType[lower..<upper]
        // Clients nearly always send it lowercase already: no second copy then.
        return type.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } ? type.lowercased() : String(type)
    }

    /// Where a predictions request holds its image: the body itself, or a field of a form.
    enum ImageSource: Sendable {
        case body([UInt8])
        case form(body: [UInt8], boundary: String)

        /// The encoded image; a form is parsed here, off the connection's thread.
        func imageBytes() throws -> [UInt8] {
            switch self {
            case .body(let bytes):
                return bytes
            case .form(let body, let boundary):
                let form = try MultipartForm(body: body, boundary: boundary)
                guard let part = form.parts.first(where: { $0.name == "data" }) ?? form.parts.first(where: { $0.name == "file" }) else {
                    throw ServiceError.badRequest("the form has no field \"data\" holding the image (fields: \(form.parts.compactMap(\.name)))")
                }
                guard !part.body.isEmpty else { throw ServiceError.badRequest("the form field \"data\" is empty") }
                return Array(part.body)
            }
        }
    }

    /// Where the image of a predictions request is, from its headers.
    static func imageSource(of request: HTTPRequest) throws -> ImageSource {
        let mediaType = Self.mediaType(of: request.headers["content-type"] ?? "application/octet-stream")
        if mediaType == "multipart/form-data" {
            guard let boundary = MultipartForm.boundary(fromContentType: request.headers["content-type"] ?? "") else {
                throw ServiceError.badRequest("multipart/form-data needs a boundary parameter")
            }
            return .form(body: request.body, boundary: boundary)
        }
        guard ["image/png", "image/jpeg", "image/jpg", "application/octet-stream", "image/*"].contains(mediaType)
                || mediaType.isEmpty else {
            throw ServiceError.unsupportedMediaType(
                "content type \"\(mediaType)\" is not supported; send image/png, image/jpeg, application/octet-stream or multipart/form-data")
        }
        guard !request.body.isEmpty else { throw ServiceError.badRequest("the request body is empty; send a PNG or JPEG image") }
        return .body(request.body)
    }
}
