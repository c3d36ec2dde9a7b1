/**
 * @module apple/default-icon
 * The neutral icon a pass gets when its template's design has no `icon.png` (api.md "Wallet
 * credentials": a pass is valid out of the box; apple-wallet.md §3.1: icon.png is required).
 * A grey square with a white card, 29, 58 and 87 px (29 pt at 1x, 2x, 3x; §2.5). Truecolour PNGs
 * written once by a throwaway Node script (zlib deflate) and embedded here as base64.
 */
import { fromBase64 } from "../lib/crypto";

const ICON_1X =
  "iVBORw0KGgoAAAANSUhEUgAAAB0AAAAdCAIAAADZ8fBYAAAALElEQVR42mPo65tMC8Qwau6ouQNj7n+ywPAzdzQ9jKaHUXNH8/GouaPmYiAAaK+KlngRC+EAAAAASUVORK5CYII=";
const ICON_2X =
  "iVBORw0KGgoAAAANSUhEUgAAADoAAAA6CAIAAABu2d1/AAAAUUlEQVR42u3XsQkAQAgDQPcvbBz4XUKExwsZ4KpAIrM+auDi4uLi4uLi4uLOct9ucHGvcg0ZLi6u3cXFxcXFxcXFxfWEvQlcXFxcXFxc3LPcBsukFuHwMjIBAAAAAElFTkSuQmCC";
const ICON_3X =
  "iVBORw0KGgoAAAANSUhEUgAAAFcAAABXCAIAAAD+qk47AAAAiklEQVR42u3asQkAAAgDMP8fXDxYz1Ah0gsyFWpklgQCChQoUKBAgQIFChQoUKBAgQIFChQoUKBwRaGfHAUKFChQoECBwq6C7kiBAgUKFChQoKA7UqBAgQIFChQoUKBAgQIFChQoUKBAgQIFChR8cdimKFCgQIECBQoUKFCgQIECBQoUKFCgQOFRBtpeNaV1eok/AAAAAElFTkSuQmCC";

/** File name -> PNG bytes. A fresh copy per call, so a caller cannot change the shared bytes. */
export function defaultIconImages(): Record<string, Uint8Array> {
  return { "icon.png": fromBase64(ICON_1X), "icon@2x.png": fromBase64(ICON_2X), "icon@3x.png": fromBase64(ICON_3X) };
}
