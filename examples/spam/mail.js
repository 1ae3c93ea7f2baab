// Reading a raw RFC 822 / MIME message down to what the classifier may see: its Subject and its
// body text. Headers (senders, relays, dates, mailer names) are dropped: they make the corpus
// trivially separable (different collection sites and times), not a test of reading the text.
//
// Handled: folded headers, RFC 2047 encoded words in the Subject, multipart bodies (text/plain
// parts preferred, text/html reduced to text when a message has no plain part; attachments and
// images skipped), base64 and quoted-printable transfer encodings, the declared charset.

/** The header block and the body of a message (or of a MIME part). */
function splitHeaders(raw) {
  const match = /\r?\n\r?\n/.exec(raw);
  if (!match) return { headers: parseHeaders(raw), body: '' };
  return { headers: parseHeaders(raw.slice(0, match.index)), body: raw.slice(match.index + match[0].length) };
}

/** name (lower case) → value, continuation lines unfolded; the first occurrence wins. */
function parseHeaders(block) {
  const headers = new Map();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

/** A header parameter such as `charset` or `boundary` (quoted or not), or ''. */
function parameter(value, name) {
  const match = new RegExp(`${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value ?? '');
  return match ? (match[1] ?? match[2]) : '';
}

/** Bytes → text in `charset` (unknown or missing charsets read as windows-1252, a superset of latin-1). */
function decodeBytes(bytes, charset) {
  try {
    return new TextDecoder(charset || 'windows-1252').decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** Quoted-printable → bytes (soft line breaks removed). */
function quotedPrintable(text) {
  const clean = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < clean.length; i++) {
    const hex = clean.slice(i + 1, i + 3);
    if (clean[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(clean.charCodeAt(i) & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

/**
 * A part's body as text: base64 or quoted-printable undone and the declared charset applied. An
 * unencoded (7bit/8bit) body is used as the corpus stores it (the package decoded each file as
 * UTF-8, so its original bytes are not recoverable).
 */
function decodeBody(body, headers) {
  const encoding = (headers.get('content-transfer-encoding') ?? '').toLowerCase();
  const charset = parameter(headers.get('content-type'), 'charset').toLowerCase();
  if (encoding === 'base64') return decodeBytes(Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'), charset);
  if (encoding === 'quoted-printable') return decodeBytes(quotedPrintable(body), charset);
  return body;
}

/** RFC 2047 `=?charset?B|Q?text?=` words in a header, decoded (the space between two of them dropped). */
function decodeHeader(value) {
  return value.replace(/(\?=)\s+(?==\?)/g, '$1').replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset, kind, text) => {
    const bytes = kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : quotedPrintable(text.replace(/_/g, ' '));
    return decodeBytes(bytes, charset.toLowerCase());
  });
}

const ENTITIES = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®' };

/** Visible text of an HTML document: scripts, styles and comments dropped, tags made spaces, entities decoded. */
export function htmlToText(html) {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(br|p|div|tr|li|h\d)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec) => String.fromCodePoint(Math.min(Number(dec), 0x10ffff)))
    .replace(/&([a-z]+);/gi, (whole, name) => ENTITIES[name.toLowerCase()] ?? whole);
}

const LOOKS_LIKE_HTML = /<(?:html|body|table|font|p|br|div|a)\b|<!--/i;

/** The text parts of a (possibly multipart) body: { plain: string[], html: string[] }. */
function textParts(body, headers, found = { plain: [], html: [] }, depth = 0) {
  const type = (headers.get('content-type') ?? 'text/plain').toLowerCase();
  const boundary = parameter(headers.get('content-type'), 'boundary');
  if (type.startsWith('multipart/') && boundary && depth < 8) {
    const pieces = body.split(`--${boundary}`);
    for (const piece of pieces.slice(1)) {
      if (piece.startsWith('--')) break; // the closing delimiter
      const part = splitHeaders(piece.replace(/^\r?\n/, ''));
      textParts(part.body, part.headers, found, depth + 1);
    }
    return found;
  }
  if (type.startsWith('message/rfc822')) {
    const inner = splitHeaders(body);
    return textParts(inner.body, inner.headers, found, depth + 1);
  }
  if (type.startsWith('text/html')) {
    found.html.push(htmlToText(decodeBody(body, headers)));
  } else if (type.startsWith('text/') || !headers.has('content-type')) {
    const text = decodeBody(body, headers);
    found.plain.push(LOOKS_LIKE_HTML.test(text) ? htmlToText(text) : text); // HTML sent as plain text
  }
  return found;
}

/**
 * The Subject and the body text of a raw message (headers dropped): plain-text parts, or the
 * HTML parts as text when there is no plain one.
 * @returns {{ subject: string, body: string }}
 */
export function readMessage(raw) {
  const { headers, body } = splitHeaders(raw);
  const parts = textParts(body, headers);
  const text = (parts.plain.length > 0 ? parts.plain : parts.html).join('\n');
  return { subject: decodeHeader(headers.get('subject') ?? '').trim(), body: text.replace(/\r/g, '').replace(/[ \t]+\n/g, '\n').trim() };
}
