import Foundation
import Numerics

/// FixServe's single web page: HTML, CSS and plain JavaScript compiled into the binary, with no
/// build step and nothing loaded from elsewhere.
///
/// The page lists the models and their fixed heads, classifies a dropped or chosen image, starts
/// training jobs and draws their curves from the job's event stream, and lists and cancels jobs.
/// It talks only to the API documented in openapi.yaml, with `Authorization: Bearer <key>`
/// when the user gives a key.
enum WebPage {
    static let stylesheetName = "fixserve.css"
    static let scriptName = "fixserve.js"

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The page, with the backbone and head choices the trainer accepts filled in.
    static let html: [UInt8] = {
        func options(_ values: [String], selected: String) -> String {
            values.map { "<option value=\"\($0)\"\($0 == selected ? " selected" : "")>\($0)</option>" }
                .joined(separator: "\n              ")
        }
        let defaults = TrainingRequest(model: "")
        let page = htmlTemplate
            .replacingOccurrences(of: "{{backbones}}", with: options(BackbonePreset.allCases.map(\.rawValue), selected: defaults.backbone))
            .replacingOccurrences(of: "{{heads}}", with: options(HeadKind.allCases.map(\.rawValue), selected: defaults.head.rawValue))
            .replacingOccurrences(of: "{{epochs}}", with: String(defaults.epochs))
            .replacingOccurrences(of: "{{stylesheet}}", with: "/web/\(stylesheetName)")
            .replacingOccurrences(of: "{{script}}", with: "/web/\(scriptName)")
        return Array(page.utf8)
    }()

    static let stylesheet: [UInt8] = Array(stylesheetText.utf8)
    static let script: [UInt8] = Array(scriptText.utf8)
}
