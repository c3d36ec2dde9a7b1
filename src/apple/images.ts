/**
 * @module apple/images
 * A template's Apple images (apple-wallet.md §2.5, §3.1): PNGs named from Apple's list (`icon.png`,
 * `logo@2x.png`, ...), uploaded raw (`PUT /v1/template/{id}/images/{name}`, up to 1 MiB each, outside
 * the 256 KiB JSON limit) or as base64 in the template body, at most 2 MiB together per template
 * (every download reads and zips them all, and D1 keeps them as base64). They live in
 * `apple_template_images`, never in the `templates` row, and are read only when a bundle is built.
 * Every change moves the template's `images_changed_at` (part of each pass's Last-Modified) and fans
 * out like a template edit.
 */
import { getDb } from "../db/client";
import { deleteTemplateImage, listTemplateImages, loadTemplateImages, putTemplateImages, type ImageWrite } from "../db/queries/apple-templates";
import { fromBase64, toBase64, toHex } from "../lib/crypto";
import { AppError, notFound, validationError } from "../lib/errors";
import { iso } from "../lib/time";
import { ownedTemplate } from "../passes";
import { imageBaseOf, pngSize, type TemplatePassType } from "./design";
import { checkDesignForTemplate } from "./design-check";
import { requestTemplatePush } from "./subscriber";
import { storedDesign } from "./template-design";

/** One raw upload; the JSON path keeps design.ts's smaller cap (a body is at most 256 KiB). */
export const IMAGE_UPLOAD_LIMIT = 1024 * 1024;
/** All of a template's images together. */
export const TEMPLATE_IMAGES_LIMIT = 2 * 1024 * 1024;

/**
 * Refuses (413) when the stored images, with `incoming` (name → bytes) replacing those of the same
 * name, would pass TEMPLATE_IMAGES_LIMIT. Check then write: uploads of different names racing each
 * other can each pass it, so the total can go over by what they add (at most one image each, 1 MiB,
 * and Apple's image names are a short fixed list).
 */
function checkTotal(stored: { name: string; bytes: number }[], incoming: Record<string, number>): void {
  const kept = stored.filter((i) => !Object.hasOwn(incoming, i.name)).reduce((n, i) => n + i.bytes, 0);
  const total = Object.values(incoming).reduce((n, b) => n + b, kept);
  if (total <= TEMPLATE_IMAGES_LIMIT) return;
  const kib = (n: number) => Math.ceil(n / 1024);
  throw new AppError(
    "payload_too_large",
    `A template's images may total at most ${kib(TEMPLATE_IMAGES_LIMIT)} KiB; with this they would total ${kib(total)} KiB. Delete or shrink an image first.`,
    { limitBytes: TEMPLATE_IMAGES_LIMIT, totalBytes: total },
  );
}

type ImageEnv = Pick<Env, "DB" | "MASTER_KEY" | "APPLE_QUEUE">;
interface Scope {
  env: ImageEnv;
  projectId: string;
}

async function describe(name: string, bytes: Uint8Array): Promise<ImageWrite> {
  const size = pngSize(bytes);
  if (!size) throw validationError([{ path: name, message: "is not a PNG image" }], `${name} is not a PNG image.`);
  const sha1 = toHex(new Uint8Array(await crypto.subtle.digest("SHA-1", Uint8Array.from(bytes))));
  return { name, data: toBase64(bytes), bytes: bytes.length, sha1, width: size.width, height: size.height };
}

/** Issues when `names` are not images the template's style shows (with its design's personalization). */
function checkNames(template: { id: number; passType: string; fields: unknown; apple: Record<string, unknown> | null }, names: string[]) {
  for (const name of names) if (!imageBaseOf(name)) throw notFound("Image name");
  const design = storedDesign(template);
  const images = Object.fromEntries(names.map((n) => [n, ""]));
  const issues = checkDesignForTemplate({ ...design, images }, { passType: template.passType as TemplatePassType, fields: [] }).filter((i) => i.path.startsWith("apple.images."));
  if (issues.length) throw validationError(issues.map((i) => ({ path: i.path.slice("apple.images.".length), message: i.message })), issues[0].message);
}

export interface ImageUpload {
  contentType: string | undefined;
  /** Reads the body; throws 413 past IMAGE_UPLOAD_LIMIT. Called only after the checks on the template. */
  read(): Promise<Uint8Array>;
}

/**
 * Stores one uploaded image (replacing one of the same name) and fans the change out. Another
 * project's template is a 404 whatever the body; then the name, the content type, the bytes.
 */
export async function putTemplateImage(scope: Scope, templateId: number, name: string, upload: ImageUpload, now = Date.now()) {
  const template = await ownedTemplate(scope, templateId);
  if (!imageBaseOf(name)) throw notFound("Image name");
  const type = (upload.contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "image/png") throw new AppError("unsupported_media_type", "Send the image as Content-Type: image/png.", { contentType: type || null });
  const stored = await listTemplateImages(getDb(scope.env.DB), templateId);
  checkNames(template, [...stored.map((i) => i.name).filter((n) => n !== name), name]);
  let bytes: Uint8Array;
  try {
    bytes = await upload.read();
  } catch (e) {
    if (e instanceof AppError && e.code === "payload_too_large") throw new AppError("payload_too_large", `An image may be at most ${IMAGE_UPLOAD_LIMIT / 1024} KiB.`, { limitBytes: IMAGE_UPLOAD_LIMIT });
    throw e;
  }
  checkTotal(stored, { [name]: bytes.length });
  const image = await describe(name, bytes);
  await putTemplateImages(getDb(scope.env.DB), templateId, scope.projectId, [image], now);
  await requestTemplatePush(scope.env, scope.projectId, templateId, now, now);
  return { name, bytes: image.bytes, width: image.width, height: image.height, sha1: image.sha1, updatedAt: iso(now) };
}

/**
 * Before a template is replaced: 413 when the body's images (`takeAppleImages`) would bring the
 * template past TEMPLATE_IMAGES_LIMIT, so a refused body changes nothing. Another project's template
 * is a 404, as the replace would answer. A new template needs no check (a body is at most 256 KiB).
 */
export async function checkAppleImagesFit(scope: Scope, templateId: number, images: Record<string, Uint8Array>): Promise<void> {
  if (!Object.keys(images).length) return;
  await ownedTemplate(scope, templateId);
  checkTotal(await listTemplateImages(getDb(scope.env.DB), templateId), Object.fromEntries(Object.entries(images).map(([n, b]) => [n, b.length])));
}

/**
 * Stores the images a template body carried (`apple.images`, already validated by checkAppleTemplate)
 * after the template was saved. Names not in the body stay as they are.
 */
export async function saveAppleImages(env: ImageEnv, template: { id: number; projectId: string }, images: Record<string, Uint8Array>, now = Date.now()): Promise<void> {
  const names = Object.keys(images);
  if (!names.length) return;
  const rows = await Promise.all(names.map((n) => describe(n, images[n])));
  await putTemplateImages(getDb(env.DB), template.id, template.projectId, rows, now);
  await requestTemplatePush(env, template.projectId, template.id, now, now);
}

export async function removeTemplateImage(scope: Scope, templateId: number, name: string, now = Date.now()): Promise<void> {
  await ownedTemplate(scope, templateId);
  if (!imageBaseOf(name) || !(await deleteTemplateImage(getDb(scope.env.DB), templateId, scope.projectId, name, now))) throw notFound("Image");
  await requestTemplatePush(scope.env, scope.projectId, templateId, now, now);
}

export async function listImages(scope: Scope, templateId: number) {
  await ownedTemplate(scope, templateId);
  const rows = await listTemplateImages(getDb(scope.env.DB), templateId);
  return { images: rows.map((r) => ({ ...r, updatedAt: iso(r.updatedAt) })) };
}

export async function getTemplateImage(scope: Scope, templateId: number, name: string): Promise<Uint8Array> {
  await ownedTemplate(scope, templateId);
  const rows = imageBaseOf(name) ? await loadTemplateImages(getDb(scope.env.DB), templateId, [name]) : [];
  if (!rows.length) throw notFound("Image");
  return fromBase64(rows[0].data);
}

/** A template's images as bytes, for a bundle. */
export async function bundleImages(env: Pick<Env, "DB">, templateId: number): Promise<Record<string, Uint8Array>> {
  const rows = await loadTemplateImages(getDb(env.DB), templateId);
  return Object.fromEntries(rows.map((r) => [r.name, fromBase64(r.data)]));
}
