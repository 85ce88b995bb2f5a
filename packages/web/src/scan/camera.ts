// The camera for scanning QR codes: the rear one where there is a choice, video only, and a
// plain reason when the browser gives none.
export type CameraProblem = "denied" | "missing" | "failed";

/** Opens the camera (rear preferred); rejects with the browser's error, or a TypeError without getUserMedia (no https). */
export async function openCamera(): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) throw new TypeError("getUserMedia is not available here");
  return navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: { ideal: "environment" } } });
}

/** Turns the camera off: its light goes out and the browser's "in use" mark disappears. */
export function stopCamera(stream: MediaStream): void {
  for (const track of stream.getTracks()) track.stop();
}

export function cameraProblem(error: unknown): CameraProblem {
  const name = error instanceof Error ? error.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") return "denied";
  if (name === "NotFoundError" || name === "OverconstrainedError" || error instanceof TypeError) return "missing";
  return "failed";
}
