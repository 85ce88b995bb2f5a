// A QR code drawn with block characters, so an invite can be scanned straight off a terminal.
import qrcode from "qrcode-generator";

export function terminalQr(text: string): string {
  const qr = qrcode(0, "M");
  qr.addData(text, "Byte");
  qr.make();
  const size = qr.getModuleCount();
  const dark = (r: number, c: number) => r >= 0 && c >= 0 && r < size && c < size && qr.isDark(r, c);
  const lines: string[] = [];
  // Two rows per line with half blocks; a quiet zone of two modules around the code.
  for (let r = -2; r < size + 2; r += 2) {
    let line = "";
    for (let c = -2; c < size + 2; c++) {
      const top = dark(r, c);
      const bottom = dark(r + 1, c);
      line += top && bottom ? " " : top ? "▄" : bottom ? "▀" : "█";
    }
    lines.push(line);
  }
  return lines.join("\n");
}
