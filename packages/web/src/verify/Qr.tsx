// A QR code drawn as one SVG path (no inline styles, no images: fits the strict CSP).
import qrcode from "qrcode-generator";
import { useMemo } from "preact/hooks";

export function Qr(props: { text: string; label: string; size?: number }) {
  const { path, count } = useMemo(() => {
    const qr = qrcode(0, "M");
    qr.addData(props.text);
    qr.make();
    const n = qr.getModuleCount();
    let d = "";
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`;
    return { path: d, count: n + 8 };
  }, [props.text]);
  const size = props.size ?? 200;
  return (
    <svg role="img" aria-label={props.label} width={size} height={size} viewBox={`0 0 ${count} ${count}`} shape-rendering="crispEdges" class="qr">
      <rect width={count} height={count} fill="#ffffff" />
      <path d={path} fill="#000000" />
    </svg>
  );
}
