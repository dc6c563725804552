import { readFileSync } from "node:fs";
import { lookup as npmLookup } from "mime-types";

/**
 * The content type Swift's proxy guesses for an object PUT without one: Python's
 * mimetypes.guess_type(path) after mimetypes.init(knownfiles), i.e. Python 3.11's built-in
 * table overridden by the host's mime.types (Debian's /etc/mime.types), with its rules for
 * compressed suffixes (".tar.gz" is a tar file, gzip-encoded; ".gz" alone is unknown).
 */
const PY_DEFAULT_TYPES: ReadonlyArray<readonly [string, string]> = [
  ["application/javascript", "js mjs"],
  ["application/json", "json"],
  ["application/manifest+json", "webmanifest"],
  ["application/msword", "doc dot wiz"],
  ["application/n-quads", "nq"],
  ["application/n-triples", "nt"],
  ["application/octet-stream", "a bin dll exe o obj so"],
  ["application/oda", "oda"],
  ["application/pdf", "pdf"],
  ["application/pkcs7-mime", "p7c"],
  ["application/postscript", "ai eps ps"],
  ["application/trig", "trig"],
  ["application/vnd.apple.mpegurl", "m3u m3u8"],
  ["application/vnd.ms-excel", "xlb xls"],
  ["application/vnd.ms-powerpoint", "pot ppa pps ppt pwz"],
  ["application/wasm", "wasm"],
  ["application/x-bcpio", "bcpio"],
  ["application/x-cpio", "cpio"],
  ["application/x-csh", "csh"],
  ["application/x-dvi", "dvi"],
  ["application/x-gtar", "gtar"],
  ["application/x-hdf", "hdf"],
  ["application/x-hdf5", "h5"],
  ["application/x-latex", "latex"],
  ["application/x-mif", "mif"],
  ["application/x-netcdf", "cdf nc"],
  ["application/x-pkcs12", "p12 pfx"],
  ["application/x-pn-realaudio", "ram"],
  ["application/x-python-code", "pyc pyo"],
  ["application/x-sh", "sh"],
  ["application/x-shar", "shar"],
  ["application/x-shockwave-flash", "swf"],
  ["application/x-sv4cpio", "sv4cpio"],
  ["application/x-sv4crc", "sv4crc"],
  ["application/x-tar", "tar"],
  ["application/x-tcl", "tcl"],
  ["application/x-tex", "tex"],
  ["application/x-texinfo", "texi texinfo"],
  ["application/x-troff", "roff t tr"],
  ["application/x-troff-man", "man"],
  ["application/x-troff-me", "me"],
  ["application/x-troff-ms", "ms"],
  ["application/x-ustar", "ustar"],
  ["application/x-wais-source", "src"],
  ["application/xml", "rdf wsdl xpdl xsl"],
  ["application/zip", "zip"],
  ["audio/3gpp", "3gp 3gpp"],
  ["audio/3gpp2", "3g2 3gpp2"],
  ["audio/aac", "aac adts ass loas"],
  ["audio/basic", "au snd"],
  ["audio/mpeg", "mp2 mp3"],
  ["audio/opus", "opus"],
  ["audio/x-aiff", "aif aifc aiff"],
  ["audio/x-pn-realaudio", "ra"],
  ["audio/x-wav", "wav"],
  ["image/avif", "avif"],
  ["image/bmp", "bmp"],
  ["image/gif", "gif"],
  ["image/heic", "heic"],
  ["image/heif", "heif"],
  ["image/ief", "ief"],
  ["image/jpeg", "jpe jpeg jpg"],
  ["image/png", "png"],
  ["image/svg+xml", "svg"],
  ["image/tiff", "tif tiff"],
  ["image/vnd.microsoft.icon", "ico"],
  ["image/x-cmu-raster", "ras"],
  ["image/x-portable-anymap", "pnm"],
  ["image/x-portable-bitmap", "pbm"],
  ["image/x-portable-graymap", "pgm"],
  ["image/x-portable-pixmap", "ppm"],
  ["image/x-rgb", "rgb"],
  ["image/x-xbitmap", "xbm"],
  ["image/x-xpixmap", "xpm"],
  ["image/x-xwindowdump", "xwd"],
  ["message/rfc822", "eml mht mhtml nws"],
  ["text/css", "css"],
  ["text/csv", "csv"],
  ["text/html", "htm html"],
  ["text/n3", "n3"],
  ["text/plain", "bat c h ksh pl srt txt"],
  ["text/richtext", "rtx"],
  ["text/tab-separated-values", "tsv"],
  ["text/vtt", "vtt"],
  ["text/x-python", "py"],
  ["text/x-setext", "etx"],
  ["text/x-sgml", "sgm sgml"],
  ["text/x-vcard", "vcf"],
  ["text/xml", "xml"],
  ["video/mp4", "mp4"],
  ["video/mpeg", "m1v mpa mpe mpeg mpg"],
  ["video/quicktime", "mov qt"],
  ["video/webm", "webm"],
  ["video/x-msvideo", "avi"],
  ["video/x-sgi-movie", "movie"],
];

const SUFFIX_MAP: Record<string, string> = { ".svgz": ".svg.gz", ".tgz": ".tar.gz", ".taz": ".tar.gz", ".tz": ".tar.gz", ".tbz2": ".tar.bz2", ".txz": ".tar.xz" };
/** Case-sensitive, as in Python. */
const ENCODINGS = new Set([".gz", ".Z", ".bz2", ".xz", ".br"]);
const KNOWN_FILES = ["/etc/mime.types", "/etc/httpd/mime.types", "/etc/httpd/conf/mime.types", "/etc/apache/mime.types", "/etc/apache2/mime.types", "/usr/local/etc/httpd/conf/mime.types", "/usr/local/lib/netscape/mime.types", "/usr/local/etc/mime.types"];

let table: Map<string, string> | undefined;
let hostFiles = 0;

function load(): Map<string, string> {
  const t = new Map<string, string>();
  for (const [type, exts] of PY_DEFAULT_TYPES) for (const e of exts.split(" ")) t.set(`.${e}`, type);
  for (const f of KNOWN_FILES) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    hostFiles++;
    for (const line of text.split("\n")) {
      const words = line.split(/\s+/).filter(Boolean);
      const hash = words.findIndex((w) => w.startsWith("#"));
      if (hash >= 0) words.length = hash;
      if (words.length < 2) continue;
      for (const suffix of words.slice(1)) t.set(`.${suffix}`, words[0]!);
    }
  }
  return t;
}

/** posixpath.splitext: the last dot of the last component, leading dots not counting. */
function splitext(p: string): [string, string] {
  const slash = p.lastIndexOf("/");
  const dot = p.lastIndexOf(".");
  if (dot <= slash) return [p, ""];
  let i = slash + 1;
  while (i < dot && p[i] === ".") i++;
  if (i === dot) return [p, ""];
  return [p.slice(0, dot), p.slice(dot)];
}

/** mimetypes.guess_type(path)[0], or undefined when Python would not know it. */
export function guessType(path: string): string | undefined {
  table ??= load();
  let [base, ext] = splitext(path);
  while (SUFFIX_MAP[ext.toLowerCase()] !== undefined) [base, ext] = splitext(base + SUFFIX_MAP[ext.toLowerCase()]!);
  if (ENCODINGS.has(ext)) [base, ext] = splitext(base);
  const found = table.get(ext.toLowerCase());
  if (found !== undefined) return found;
  // No mime.types on this host: the npm table stands in for the one Debian has.
  if (hostFiles === 0 && ext !== "") return npmLookup(ext) || undefined;
  return undefined;
}
