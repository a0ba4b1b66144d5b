import Testing
@testable import ImageCodec
