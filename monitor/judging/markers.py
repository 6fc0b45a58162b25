"""What the classifier looks for in a page: the phrase and marker tables of its rules.

Bot-wall fingerprints, parking and for-sale wording (with the domain marketplaces' hosts),
closure announcements, and not-found wording. The marker names are those of
``monitor.pages.facts``' marker table (``facts["markers"]``). Tuning what a page's words mean
happens here; how the matches are weighed is in ``classify`` and ``soft404``. Several tables
come with a list of cheap substrings that every match contains: testing those with ``in``
first spares most pages a run of regex scans.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------- bot walls

_CHALLENGE_TITLES = tuple(
    (re.compile(pattern), what)
    for pattern, what in (
        (r"^just a moment(?:\.\.\.|…)?$", "Cloudflare 'Just a moment...' challenge"),
        (r"attention required! \| cloudflare", "Cloudflare 'Attention Required!' page"),
        (r"used cloudflare to restrict access", "Cloudflare access rule"),
        (r"^ddos-guard$", "DDoS-Guard check"),
        (r"sucuri website firewall", "Sucuri firewall"),
        (r"^pardon our interruption", "Imperva/Distil bot check"),
        (r"^access to this page has been denied", "PerimeterX bot check"),
        (r"^request rejected$", "F5 firewall rejection"),
        (r"^human verification$", "human verification wall"),
    )
)
_CHALLENGE_TEXT = (
    ("checking your browser before accessing", "'Checking your browser' interstitial"),
    ("checking if the site connection is secure", "Cloudflare connection check"),
    ("enable javascript and cookies to continue", "Cloudflare JavaScript challenge"),
    ("needs to review the security of your connection", "Cloudflare security review"),
    ("verify you are human by completing the action below", "Cloudflare Turnstile challenge"),
    ("ddos protection by ddos-guard", "DDoS-Guard check"),
    ("incapsula incident id", "Imperva/Incapsula 'Request unsuccessful'"),
    ("access denied - sucuri website firewall", "Sucuri firewall"),
    ("the requested url was rejected", "F5 firewall rejection"),
    ("press & hold to confirm you are", "PerimeterX 'Press & Hold'"),
)
_FIREWALL_MARKERS = frozenset({"incapsula", "sucuri", "ddos-guard"})  # also on ordinary pages
_AKAMAI_REFERENCE = re.compile(r"reference\s{0,3}#\s{0,3}[0-9a-f]{1,16}(?:\.[0-9a-f]{1,16}){1,6}")
_CLOUDFRONT_BLOCK = re.compile(r"request blocked|the request could not be satisfied")


# --------------------------------------------------------------------------- parked


MARKETPLACE_HOSTS = (
    "dan.com",
    "sedo.com",
    "afternic.com",
    "hugedomains.com",
    "buydomains.com",
    "undeveloped.com",
    "godaddy.com",
    "sedoparking.com",
    "parkingcrew.net",
    "bodis.com",
    "above.com",
    "domainmarket.com",
    "brandbucket.com",
    "squadhelp.com",
    "atom.com",
    "domainnamesales.com",
    "uniregistry.com",
    "efty.com",
    "parkingpage.namecheap.com",
)
# Names from monitor.pages.facts' marker table (facts["markers"]).
_PARKING_MARKERS = frozenset(
    {
        "sedoparking",
        "parkingcrew",
        "bodis",
        "above.com",
        "dsnextgen",
        "parklogic",
        "godaddy-parking",
        "parking-script",
    }
)
_MARKETPLACE_MARKERS = frozenset(
    {"dan.com", "sedo.com", "afternic", "hugedomains", "buydomains", "undeveloped"}
)
# Bounded repeats: an unbounded (?:[a-z0-9-]+\.)+ is quadratic on "a.a.a.a..." text.
_DOMAINISH = r"(?<![\w.-])(?:[a-z0-9-]{1,63}\.){1,4}[a-z]{2,24}"
_PARKING_PHRASES = tuple(
    re.compile(p)
    for p in (
        rf"\b(?:(?:this|the) domain(?: name)?(?: {_DOMAINISH})?|{_DOMAINISH}) "
        r"(?:is|may be|might be|could be) (?:still )?"
        r"(?:for sale|available for (?:purchase|sale|lease))\b",
        r"\bdomain (?:name )?(?:is )?for sale\b",
        r"\b(?:buy|purchase|get|own|lease) this domain\b",
        r"\bmake (?:an|us an|your) offer (?:on|for) (?:this|the) domain\b",
        r"\binquire about (?:this|the) domain\b",
        rf"\b(?:(?:this|the) domain(?: name)?|{_DOMAINISH}) (?:has |is )?expired\b",
        r"\brenew (?:this|the|your) domain\b",
        r"\bparked free\b",
        r"\b(?:this |the )?(?:domain|web ?page|page|site|website) (?:is|has been) parked\b",
        r"\bparked (?:domain|page)\b",
        r"\bparked (?:free, )?courtesy of\b",
        r"\b(?:this )?domain (?:was recently |has been |is )registered (?:at|with|through)\b",
        r"(?<![\w.-])(?:dan\.com|sedo\.com|afternic(?:\.com)?|hugedomains(?:\.com)?|"
        r"undeveloped\.com|buydomains(?:\.com)?)\b",
    )
)
# Every phrase above contains one of these: a page with none of them (most pages) skips the
# sixteen searches of its whole text.
_PARKING_WORDS = (
    "domain",
    "parked",
    "for sale",
    "available for",
    "expired",
    "dan.com",
    "sedo.com",
    "afternic",
)
_PARKING_LAYOUT = re.compile(
    r"\b(?:related (?:searches|links)|sponsored (?:listings|links|results)|"
    r"(?:trending|top|popular) searches)\b"
)
_PARKING_LAYOUT_WORDS = ("related ", "sponsored ", " searches")  # in every match, cheap to test
_PLACEHOLDER = re.compile(
    r"future home of something quite cool|\baccount (?:has been )?suspended\b|"
    r"welcome to nginx|apache2 (?:ubuntu|debian) default page|"
    r"test page for the (?:apache|nginx) http server|default web ?site page|domain default page"
)


# --------------------------------------------------------------------------- closed

_CLOSURE = tuple(
    re.compile(p)
    for p in (
        r"\b(?:closed|closes|closing|close|shut|shutting) (?:its|our|their) doors\b",
        r"\b(?:ceased|ceases|cease|ceasing) (?:all )?(?:its |our |their )?"
        r"(?:operations|operating|trading|to operate|to exist|activities|services)\b",
        r"\b(?:has|have|had|was|were) (?:now |formally |officially )?(?:been )?dissolved\b",
        r"\b(?:has|have|had|is|are|was|were) (?:now )?(?:been |being )?(?:wound|winding) "
        r"(?:up|down)\b",
        r"\b(?:is|are) no longer (?:operating|operational|in operation|running|trading|active|"
        r"providing (?:services|support))\b",
        r"\b(?:has|have) (?:now |permanently |officially |sadly )?closed(?: down| permanently"
        r"| for good)?\b",
        r"\bpermanently closed\b",
        r"\bclosed (?:permanently|for good|down)\b",
        r"\b(?:has|have|had) (?:now )?(?:been )?(?:permanently )?(?:shut down|shutdown)\b",
        r"\b(?:is|are|will be) shutting down\b",
        r"\bwill (?:be )?(?:closing|close) (?:down|permanently|for good)\b",
        r"\b(?:decision|decided) to (?:close|wind up|wind down|dissolve|cease)\b",
        r"\b(?:organi[sz]ation|charity|network|group|service|association|society|foundation|"
        r"helpline|programme|program) (?:no longer exists|has ceased to exist)\b",
        r"\b(?:we|it|they)(?: are| is|'re) closing\b",  # "we're" has no space
    )
)
_THANKS_YEARS = re.compile(
    r"\bthank you for (?:the |all |an? )?(?:\d+|[a-z]+(?:[- ][a-z]+)?) (?:\w+ ){0,2}years\b"
)
_CLOSING_WORD = re.compile(
    r"\b(?:closed|closing|ceased|ceasing|shut|shutting|wound|winding|dissolved)\b"
)
_NOT_A_CLOSURE = re.compile(
    r"\b(?:holidays?|christmas|xmas|easter|thanksgiving|new year|bank holiday|for the day|"
    r"(?<!as of )today|tonight|(?<!from )tomorrow|this week|weekends?|early|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)days|\d{1,2}(?:[:.]\d\d)?\s*(?:am|pm)|"
    r"until (?:further notice|\d|mon|tues|wednes|thurs|fri|satur|sun|jan|feb|mar|apr|may|jun|"
    r"jul|aug|sep|oct|nov|dec|the new year|next)|"
    r"temporar(?:y|ily)|reopen\w*|re-open\w*|new members|new referrals|"
    r"registrations?|applications?|enrol+ments?|sign-?ups?|nominations|submissions|comments|"
    r"voting|poll|survey|tickets?|bookings?|waiting list|wait-?list|closed group|"
    r"closed meetings?|closed session|office|offices|branch|premises|building|shop|caf[eé]|"
    r"thread|topic|discussion)\b"
)
# Every _CLOSURE pattern needs one of these words, and _THANKS_YEARS its opening: checking
# them with `in` first spares most pages fifteen regex scans (a profiled hot spot).
_CLOSURE_WORDS = ("clos", "shut", "ceas", "dissolv", "wound", "wind", "no longer")
_THANKS_YEARS_WORDS = "thank you for"
_FUTURE = re.compile(r"\bwill\b")
_SENTENCE_END = re.compile(r"[.!?\n]")


# --------------------------------------------------------------------------- soft 404

_MISSING = (
    r"(?:you (?:are|were) looking for |you requested )?(?:was |were |is |could )?"
    r"(?:not (?:be )?found|(?:can ?not|can't|could not|couldn't) be (?:found|located)|"
    r"(?:does not|doesn't|did not|no longer) exists?)\b"
)
_NOT_FOUND_COMMON = tuple(
    re.compile(p)
    for p in (
        r"\b404\b[^.]{0,40}\bnot found\b|\bnot found\b[^.]{0,40}\b404\b",
        r"\berror:? ?404\b|\b404 error\b",
        r"\bpage introuvable\b|\bpage non trouv[ée]e\b",
        r"\bp[áa]gina no encontrada\b|\bno se (?:ha )?encontr[óo] la p[áa]gina\b",
        r"\bseite (?:wurde )?nicht gefunden\b",
        r"\bpagina non trovata\b|\bpagina niet gevonden\b|\bp[áa]gina n[ãa]o encontrada\b",
    )
)
# Titles, headings and the probe: any missing thing, and "nothing found".
_NOT_FOUND = (
    re.compile(
        r"\b(?:page|file|resource|content|article|post|group|url|document|event|listing)s? "
        + _MISSING
    ),
    re.compile(r"\bnothing (?:was )?found\b"),
    *_NOT_FOUND_COMMON,
)
# The body text of a short page: only page-like subjects. "If your group is not found in the
# list, contact us" is an invitation, not an error.
_NOT_FOUND_TEXT = (re.compile(r"\b(?:page|file|url|document)s? " + _MISSING), *_NOT_FOUND_COMMON)
_NOT_FOUND_HEAD_ONLY = re.compile(r"\bnot found\b")
_TITLE_SEGMENT = re.compile(r"\s+[|\u2013\u2014:\u00b7\u2022-]+\s+|\s*\|\s*")
_OOPS = re.compile(r"\boops\b|\bwhoops\b|\buh[- ]oh\b")
_OOPS_CONTEXT = re.compile(
    r"\b(?:can't|cannot|can not|couldn't|could not) (?:find|locate|be found)|"
    r"\b(?:doesn't|does not|no longer) exists?\b|\bnot found\b|\b404\b|\bbroken link\b|"
    r"\bpage (?:you|has|may|might|was)\b.{0,40}\b(?:moved|deleted|removed)\b"
)
