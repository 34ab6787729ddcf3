import type { Article } from '../web/articles';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/**
 * The article page of the bench's minimal publisher app, as a template literal: the app has no
 * template engine of its own, and the embed tag goes out as the bridge built it (already escaped).
 */
export function articlePage(article: Article, readerName: string, embedTag: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escape(article.title)}</title></head>
<body>
<header><span class="who">${escape(readerName)}</span></header>
<main>
<article>
<h1>${escape(article.title)}</h1>
<p class="standfirst">${escape(article.standfirst)}</p>
${article.paragraphs.map((text) => `<p>${escape(text)}</p>`).join('\n')}
</article>
<section class="comments"><h2>Comments</h2><div class="viafoura"></div></section>
</main>
${embedTag}
</body>
</html>
`;
}
