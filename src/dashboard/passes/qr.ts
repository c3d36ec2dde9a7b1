/**
 * @module dashboard/passes/qr
 * A QR code of a URL as inline SVG, rendered on the server with `uqr` (dependency-free, a port of
 * Project Nayuki's QR generator). Four modules of quiet zone, as ISO/IEC 18004 asks; medium error
 * correction. The SVG is built from the encoded matrix only (paths and rects), never from the input
 * text, so it is safe to embed.
 */
import { renderSVG } from "uqr";

export function qrSvg(url: string, label: string): string {
  const svg = renderSVG(url, { ecc: "M", border: 4 });
  const escaped = label.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return svg.replace("<svg ", `<svg role="img" aria-label="${escaped}" class="qr" width="200" height="200" `);
}
