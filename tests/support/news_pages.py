"""Article pages as news sites serve them, for end-to-end tests that need many articles of their own.

The chrome copies what tests/fixtures/pages holds from real sites (a WordPress magazine, a newspaper's
story page): head meta and Open Graph tags, a cookie banner, the site's menu, a breadcrumb, a byline and
time, ad slots and "Also read" links between the paragraphs, tags, share buttons, related stories,
a sidebar of trending headlines, a newsletter form and a footer. Only the headline, the standfirst and
the paragraphs are the article: the rest is what extraction must leave out.

    site = Site("PrintShift", "printshift.example", trending=("…", "…"))
    html = news_page(site, Story("kestrel-k2-review", "Review: …", "…", "Ana Ruiz", "Reviews", (...)))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape


@dataclass(frozen=True)
class Site:
    name: str
    domain: str
    sections: tuple[str, ...] = ("News", "Business", "Technology", "Opinion", "Video")
    trending: tuple[str, ...] = ()
    also_read: tuple[str, ...] = ()


@dataclass(frozen=True)
class Story:
    slug: str
    title: str
    standfirst: str
    author: str
    section: str
    paragraphs: tuple[str, ...]
    tags: tuple[str, ...] = ()
    published: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(hours=1))


def news_page(site: Site, story: Story) -> str:
    """The whole HTML document of one story on `site`."""
    return "\n".join([_head(site, story), "<body class=\"single single-post\">", _cookie_banner(site),
                      _masthead(site), _main(site, story), _footer(site), "</body>", "</html>"])  # fmt: skip


def _head(site: Site, story: Story) -> str:
    title, dek = escape(story.title), escape(story.standfirst)
    url = f"https://www.{site.domain}/{story.published:%Y/%m/%d}/{story.slug}/"
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | {escape(site.name)}</title>
<meta name="description" content="{dek}">
<meta name="author" content="{escape(story.author)}">
<link rel="canonical" href="{url}">
<link rel="alternate" type="application/rss+xml" title="{escape(site.name)} &raquo; Feed" href="https://www.{site.domain}/feed/">
<meta property="og:type" content="article">
<meta property="og:title" content="{title}">
<meta property="og:description" content="{dek}">
<meta property="og:url" content="{url}">
<meta property="og:site_name" content="{escape(site.name)}">
<meta property="article:published_time" content="{story.published.isoformat(timespec="seconds")}">
<meta property="article:section" content="{escape(story.section)}">
<meta name="twitter:card" content="summary_large_image">
<link rel="stylesheet" href="/wp-content/themes/{site.domain.split(".")[0]}/style.css?ver=3.1.4" media="all">
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){{dataLayer.push(arguments);}}
  gtag('js', new Date());
  gtag('config', 'G-0000000000', {{ 'content_group': '{escape(story.section)}' }});
</script>
</head>"""


def _cookie_banner(site: Site) -> str:
    return f"""<div id="cookie-notice" role="dialog" aria-label="Cookie consent">
  <p>{escape(site.name)} uses cookies to personalise content and ads and to analyse our traffic. By clicking
  &ldquo;Accept all&rdquo;, you agree to our use of cookies.</p>
  <button type="button" id="cn-accept-cookie">Accept all</button> <a href="/privacy-policy/">Manage</a>
</div>"""


def _masthead(site: Site) -> str:
    links = "".join(f'<li><a href="/{s.lower()}/">{escape(s)}</a></li>' for s in site.sections)
    return f"""<header class="site-header">
  <a class="site-logo" href="/" rel="home">{escape(site.name)}</a>
  <nav class="main-navigation" aria-label="Primary"><ul>{links}</ul></nav>
  <a class="subscribe-button" href="/subscribe/">Subscribe</a>
  <form class="search-form" action="/" method="get"><input type="search" name="s" placeholder="Search"></form>
</header>"""


def _main(site: Site, story: Story) -> str:
    return f"""<main id="main" class="site-main">
<div class="content-area">
<nav class="breadcrumbs" aria-label="Breadcrumb"><a href="/">Home</a> &rsaquo; <a href="/{story.section.lower()}/">{escape(story.section)}</a></nav>
{_article(site, story)}
{_related(site)}
</div>
{_sidebar(site)}
</main>"""  # noqa: E501


def _article(site: Site, story: Story) -> str:
    when = story.published.strftime("%B %d, %Y at %H:%M UTC").replace(" 0", " ")
    body = []
    for index, paragraph in enumerate(story.paragraphs):
        body.append(f"<p>{escape(paragraph)}</p>")
        if index == 1:
            body.append('<div class="ad-slot" data-slot="in-article-1"><span class="ad-label">Advertisement'
                        '</span><div id="div-gpt-ad-1" class="gpt-ad"></div></div>')  # fmt: skip
        if index == 2 and site.also_read:
            body.append(f'<p class="also-read"><strong>Also read:</strong> <a href="/{story.section.lower()}'
                        f'/also-read/">{escape(site.also_read[0])}</a></p>')  # fmt: skip
    content = "\n    ".join(body)
    tags = "".join(
        f'<a href="/tag/{t.lower().replace(" ", "-")}/" rel="tag">{escape(t)}</a>' for t in story.tags
    )
    return f"""<article class="post type-post status-publish format-standard">
  <header class="entry-header">
    <span class="cat-links"><a href="/{story.section.lower()}/">{escape(story.section)}</a></span>
    <h1 class="entry-title">{escape(story.title)}</h1>
    <p class="entry-standfirst">{escape(story.standfirst)}</p>
    <div class="entry-meta">By <a class="author" href="/author/{story.author.lower().replace(" ", "-")}/" rel="author">{escape(story.author)}</a>
      &middot; <time class="entry-date published" datetime="{story.published.isoformat(timespec="seconds")}">{when}</time></div>
  </header>
  <div class="share-buttons"><a href="#share-x">Share on X</a> <a href="#share-linkedin">LinkedIn</a> <a href="#share-email">Email</a></div>
  <div class="entry-content">
    {content}
  </div>
  <footer class="entry-footer"><span class="tags-links">Tags: {tags}</span></footer>
</article>"""  # noqa: E501


def _related(site: Site) -> str:
    items = "".join(f'<li><a href="/related/{n}/">{escape(t)}</a></li>' for n, t in enumerate(site.also_read))
    return f'<section class="related-posts"><h2>More from {escape(site.name)}</h2><ul>{items}</ul></section>'


def _sidebar(site: Site) -> str:
    items = "".join(f'<li><a href="/trending/{n}/">{escape(t)}</a></li>' for n, t in enumerate(site.trending))
    return f"""<aside id="secondary" class="widget-area">
  <section class="widget widget_trending"><h2 class="widget-title">Trending</h2><ol>{items}</ol></section>
  <section class="widget widget_newsletter"><h2 class="widget-title">The {escape(site.name)} newsletter</h2>
    <form action="/newsletter/" method="post"><input type="email" name="email" placeholder="Your email">
    <button type="submit">Sign up</button></form></section>
</aside>"""


def _footer(site: Site) -> str:
    return f"""<footer class="site-footer">
  <ul class="footer-links"><li><a href="/about/">About us</a></li><li><a href="/contact/">Contact</a></li>
  <li><a href="/privacy-policy/">Privacy policy</a></li><li><a href="/feed/">RSS</a></li></ul>
  <p class="copyright">&copy; {datetime.now(UTC):%Y} {escape(site.name)}. All rights reserved.</p>
</footer>
<script src="/wp-includes/js/wp-embed.min.js" defer></script>"""


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")
