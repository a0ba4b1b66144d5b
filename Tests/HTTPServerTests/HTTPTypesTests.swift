@testable import HTTPServer
import Testing

@Suite("Request and header types")
struct HTTPTypesTests {
    @Test func commonNamesAndMethodsAreRecognisedByTheirBytes() {
        func bytes(_ text: String, _ body: (UnsafeRawBufferPointer) -> String?) -> String? {
            Array(text.utf8).withUnsafeBytes(body)
        }
        for name in ["host", "accept", "cookie", "user-agent", "content-type", "authorization", "cache-control",
                     "content-length", "accept-encoding", "accept-language"] {
            #expect(bytes(name, CommonStrings.fieldName) == name)
        }
        for name in ["hosts", "accepT", "x-custom", "user-agenT", "", "content-lengths"] {
            #expect(bytes(name, CommonStrings.fieldName) == nil)
        }
        for method in ["GET", "PUT", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS"] {
            #expect(bytes(method, CommonStrings.method) == method)
        }
        #expect(bytes("BREW", CommonStrings.method) == nil)
        #expect(bytes("get", CommonStrings.method) == nil)
    }

    @Test func headerLookupIgnoresCase() {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "x-many", value: "1")
        headers.add(name: "X-Many", value: "2")
        #expect(headers["content-type"] == "text/plain")
        #expect(headers["CONTENT-TYPE"] == "text/plain")
        #expect(headers.values(for: "X-MANY") == ["1", "2"])
        headers.replaceOrAdd(name: "x-many", value: "3")
        #expect(headers.values(for: "x-many") == ["3"])
    }

    @Test func targetSplitsIntoPathAndDecodedQuery() {
        let request = HTTPRequest(method: "GET", target: "/v1/models?name=a%20b&flag&x=1+2&bad=%zz")
        #expect(request.path == "/v1/models")
        #expect(request.queryItems == [
            HTTPQueryItem(name: "name", value: "a b"), HTTPQueryItem(name: "flag", value: ""),
            HTTPQueryItem(name: "x", value: "1 2"), HTTPQueryItem(name: "bad", value: "%zz"),
        ])
        #expect(request.queryValue("x") == "1 2")
    }

    @Test func base64URLDecodesHTTP2SettingsPayloads() {
        #expect(Base64URL.decode("AAMAAABkAAQCAAAAAAIAAAAA") == [0, 3, 0, 0, 0, 100, 0, 4, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0])
        #expect(Base64URL.decode("not valid!") == nil)
        #expect(Base64URL.decode("") == [])
    }
}
