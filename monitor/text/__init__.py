"""Text helpers shared by several stages: Unicode normalisation, sentences, HTML to text.

    normalise.py   normalise_text (NFKC, lookalikes folded, spaces collapsed), caps that hold once text
                   is normalised (cut_normalised, fits_normalised, cut), is_cjk
    sentences.py   split_sentences, and SentenceFinder for the sentence around one offset
    html_text.py   html_to_text: a feed summary's plain text, block elements on their own lines

A foundation at the package root: may import only monitor.libxml. Callers import from monitor.text;
_CJK and _OTHER_SPACES are re-exported for query/positions.py and a test that read them.
"""

from .html_text import html_to_text as html_to_text
from .normalise import _CJK as _CJK
from .normalise import _OTHER_SPACES as _OTHER_SPACES
from .normalise import MAX_NORMALISED_CHARS as MAX_NORMALISED_CHARS
from .normalise import cut as cut
from .normalise import cut_normalised as cut_normalised
from .normalise import fits_normalised as fits_normalised
from .normalise import is_cjk as is_cjk
from .normalise import normalise_text as normalise_text
from .sentences import Sentence as Sentence
from .sentences import SentenceFinder as SentenceFinder
from .sentences import sentence_holding as sentence_holding
from .sentences import split_sentences as split_sentences
