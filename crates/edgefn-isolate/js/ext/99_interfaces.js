// ext/99_interfaces.js
//
// The extension's interface objects on the global object, by name: the
// core's 29_extension.js exposes each lazily and asks here on first access.

function interfaceNamed(name) {
  switch (name) {
    case "Blob":
      return blobClasses().Blob;
    case "File":
      return blobClasses().File;
    case "FormData":
      return formDataOps().formDataClass();
    case "MessageChannel":
      return messagingOps().messagingClasses().MessageChannel;
    case "MessagePort":
      return messagingOps().messagingClasses().MessagePort;
    case "MessageEvent":
      return messagingOps().messageEventClass();
    case "TransformStream":
      return transformStreamOps().transformStreamClasses().TransformStream;
    case "TransformStreamDefaultController":
      return transformStreamOps().transformStreamClasses().TransformStreamDefaultController;
    case "TextEncoderStream":
      return encodingStreamClasses().TextEncoderStream;
    case "TextDecoderStream":
      return encodingStreamClasses().TextDecoderStream;
    case "CompressionStream":
      return compressionStreamClasses().CompressionStream;
    case "DecompressionStream":
      return compressionStreamClasses().DecompressionStream;
  }
  return undefined;
}
