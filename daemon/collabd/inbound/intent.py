"""What a reply's new text means: confirm, reject, unclear, progress, delivered, comment.

A confirmation is never invented. The text is read clause by clause, with negation in
scope, and a confirmation counts only when nothing around it takes it back:

- negation in scope: 不确认 / 确认不了 / 无法验收 / 不予认可 / 恕难同意 reject, while
  没有异议 / 无不同意见 / 不反对 / 没问题 confirm (the reject word inside them is consumed
  first); 不是不同意 and 同意不同意 are neither;
- questions anywhere (？, 吗, 是否, A不A), conditions and concessions (但/不过/如果/前提/
  除非/基本/原则上), deferrals (再确认/回头/稍后/明天答复/汇报后/确认一下), receipts
  alone (收到/已阅/好的) make a reply `unclear`: the daemon asks back instead of guessing;
- words in quotation marks are mentioned, not said (回复“不确认”并写明意见), and a reject
  word used as a noun in an aside (之前驳回的那版) decides nothing;
- a reject first wins; a confirm followed by a reject is contradictory, so unclear.

The company's own words (rules/signoff.yaml) are added to the built-in ones: `confirm`
and `reject` words count as those decisions, `negations` negate a confirm word right
after them. Only the new text is read, never the quoted original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from collabd.policy.schema import Keywords
from collabd.textnorm import fold, fold_mapped

_URL = re.compile(r"https?://[^\s<>\"'，。；）)]+", re.IGNORECASE)
_PERCENT = re.compile(r"(\d{1,3})\s*%")
_EDGE_PUNCT = " \t\r\n,，.。!！?？;；:：、~～…-—_*"

# Verbs that sign (in simplified form, after folding).
_SIGN_VERBS = r"确认|同意|认可|认同|通过|接受|验收|签字|签|批准|赞同|赞成"
_NEG = (r"不是很|不是太|不很|不太|不大|不怎么|不想|不愿|不会|不敢|不能|不可|不予|不便|不|"
        r"没有|没法|没办法|没|未能|未|无法|难以|恕难|恕不|拒绝|不好|尚不能|暂不能")

# Phrases that contain a reject word but confirm; consumed before anything else.
_CONFIRMING_NEGATIONS = re.compile(
    r"(?:没有|没|无|并无)(?:理由|什么|任何|可以)?不(?:同意|确认|认可|接受)(?:的(?:地方|理由|意见|内容))?|"
    r"(?:没有|没|无|并无|暂无)任何(?:异议|意见|问题|不同意见)|(?:没有|没|无|并无)(?:什么)?"
    r"(?:异议|不同意见|其他意见|意见|修改意见|整改意见|补充意见|问题)|不反对|没毛病|无误|"
    r"no objections?|no problem|no issues?|no concerns?")

# Hedges: a confirmation next to one of these is not a clear confirmation.
_QUESTION = re.compile(
    r"[?？]|(?<![什怎那这多])么(?=\s|$|[,，.。!！;；])|[吗嘛](?=\s|$|[,，.。!！;；~])|"
    r"是否|是不是|对不对|有没有|能不能|可不可以|要不要|行不行|对吗|好吗|请问|想问|问一下|"
    r"(确认|同意|认可|通过|接受)不\1")
_CONDITION = re.compile(
    r"不过|但是|但|可是|只是|然而|(?<![之以提])前提|"
    r"如果|假如|若是|(?<![如倘])若|只要|除非|的话|基本上?|原则上|大体上?|"
    r"大部分|部分|部份|大致|个别|初步|应该|大概|可能|也许|差不多|有待|待定|疑问|疑惑|标注|"
    r"保留意见|有条件|附条件|除(?:了)?.{0,12}(?:外|以外|之外)|惟|唯独|待补|待修改|待完善|"
    r"待确认|需要修改|需修改|要修改|还差|补齐后|补完后|不确定|不清楚|拿不准|说不好|"
    r"(?<![a-z])(?:don't think|do not think|not sure|i think|i guess|received|will review|"
    r"next week|tomorrow|once)(?![a-z])|"
    r"(?<!确认)(?<!同意)(?<!通过)(?<!可以)吧(?=\s|$|[,，.。!！])|不是不|"
    r"\bbut\b|\bhowever\b|\bif\b|\bunless\b|"
    r"\bprovided\b|\bexcept\b|\bmostly\b|\bmaybe\b|\bprobably\b|\bpending\b|\btbc\b|\btbd\b")
_DEFERRAL = re.compile(
    r"再(?:确认|说|看|议|定|回复|答复|沟通|商量|讨论|问问|核|研究|决定|批|签|验)|"
    r"等一下|等等|还没看|没看完|未看|还在确认|正在确认|"
    r"(?:给|提|出)(?:意见|反馈|答复|结论)|"
    r"(?:回头|稍后|晚点|晚些|迟些|改天|今天|今晚|下班前|明天|明日|后天|下周|下次|过几天|过两天|之后|以后|周[一二三四五六日])"
    r".{0,6}?(?:答复|回复|回你|确认|看|再说|再议|回来)|等我|等(?:.{1,12})再|"
    r"先(?:.{1,12})再|(?:看完|看一下|看下|看看|细看)(?![过了])|确认一下|核实一下|核对一下|研究一下|考虑一下|"
    r"考虑考虑|商量|请示|汇报|转给|转交|还没来得及|没来得及|来不及|暂时|暂不|容我|让我|"
    r"\blater\b|get back|will check|let me|need to check|need more time|not yet")
_RECEIPT = re.compile(
    r"^(?:收到|已收到|确认收到|收悉|已阅|阅|知道了|知悉|已知悉|好的?|好滴|嗯+|哦|ok收到|ok的?|okay|"
    r"👌|👍|🙏|"
    r"好的收到|收到了|谢谢|多谢|感谢|辛苦了?|thanks?|thank you|noted|received|got it)$")

# Decisions.
_REJECT_BUILTIN = (
    r"(?:" + _NEG + r")\s*(?:" + _SIGN_VERBS + r")"
    r"|(?:" + _SIGN_VERBS + r")\s*不(?:了|下来|下去|到|过去|能)"
    r"|驳回|退回|打回|拒绝|有异议|有不同意见|有意见|反对|否决|不行|不可以|不合格|不予|"
    r"不\s*ok(?![a-z])|不符(?:合)?|重新(?:起草|提交|修改|整理|编写|出一版)|重做|返工|"
    r"(?:确认|同意|验收|通过)个?(?:啥|什么|鬼|屁)|才怪|见鬼|(?<![a-z])not\s*$|"
    r"(?:撤回|收回|撤销|取消)(?:刚才|之前|上次|我)?的?(?:确认|同意|验收)|(?:确认|同意)(?:作废|无效)|"
    r"(?:依旧|仍然|依然|还是|仍)(?:存在|没有?解决|未解决|有问题|不行)|"
    r"(?:补上|补齐|补充|修改|更正|改正|改好|改完|整改)(?:后|之后|以后)?再(?:发|提交|交)|"
    r"不对|有误|错了|写错|算错|记错|漏了|遗漏|对不上|(?<![如若])(?<!如果)(?<!后续)(?<!以后)有问题(?!.{0,8}(?:联系|找|沟通))|"
    r"not\s+(?:ok|okay|approved?|agreed?|accept(?:ed|able)?|confirm(?:ed)?|good|fine)|"
    r"(?:can\s?not|can't|cannot|won't|will not|do not|don't|does not|doesn't|unable to|"
    r"not able to|not going to|never)\s+(?:\w+\s+){0,4}?(?:agree|approve|accept|confirm|sign)|"
    r"disagree|\brejec(?:t|ted)\b|\bdeclined?\b|"
    r"^no\b|^nope\b|\bng\b|^否(?=$|[,，.。!！\s])|❌|👎|✖|✗"
)
_CONFIRM_BUILTIN = (
    r"确认|同意|认可|认同|赞同|赞成|批准|无异议|没问题|没有问题|⊕|"
    r"(?<![a-z])(?:ok|okay|agreed?|approved?|confirm(?:ed)?|lgtm|accepted)(?![a-z])|"
    r"looks good|sounds good|fine with me|go ahead|all good|👍|✅|👌|☑|✔|✓"
)
# Words that confirm only as (nearly) the whole clause: 通过 is also "by means of".
_CLAUSE_CONFIRM = re.compile(
    r"^(?:我(?:这边|方|们)?)?(?:(?:验收|审核|评审|审批)?通过(?:了|啦)?|可以(?:的|了)?|"
    r"行(?:的)?|yes|好的?可以|没毛病)$")
# Confirm words that are not decisions here: asking, pending, a temporal "before".
_NOT_A_CONFIRM = re.compile(
    r"(?:请|烦请|需|需要|要|待|未|尚未|暂未|还未|是否|等待|等|在|正在|还在)\s*"
    r"(?:确认|同意|批准|认可)|"
    r"(?:确认|同意|批准)(?:前|之前|以前|后|之后|以后|中|一下)|确认收到")
# A reject verb used as a noun or in the past (之前驳回的那版, 被退回的): no decision.
_NOMINAL_REJECT = re.compile(
    r"(?:被|已|已经|之前|以前|上次|上回|那次|曾经?)\s*(?:驳回|退回|打回|拒绝)|"
    r"(?:驳回|退回|打回|拒绝|反对)(?:的|过的|了的)|(?:已|已经)重新\w{2}|(?:返工|重做)了|"
    r"(?:刚才|刚刚|之前|我)(?:看|说|回|理解|搞|弄)错了?")
_MENTION = re.compile(r"[“\"'「『‘][^“”\"'「」『』‘’\n]{1,12}[”\"'」』’]")
_TYPOS = (("确任", "确认"), ("确仁", "确认"), ("确忍", "确认"), ("同义", "同意"),
          ("同易", "同意"), ("同以", "同意"), ("认刻", "认可"))
# Cantonese, as Hong Kong colleagues write it: 唔 is 不 (but 唔该 is "please"), 退返 is
# 退回, 咗 is 了.
_CANTONESE = ((re.compile(r"唔(?!该|好意思|紧要)"), "不"), (re.compile(r"退返"), "退回"),
              (re.compile(r"咗"), "了"), (re.compile(r"唔该"), "请"))
# What someone else said is not this person's decision: 老王说他不同意, 领导表示同意.
_REPORTED = re.compile(
    r"(?:他|她|他们|她们|对方|老[\u4e00-\u9fff]|小[\u4e00-\u9fff]|[\u4e00-\u9fff]总|领导|"
    r"[\u4e00-\u9fff]经理)(?:也)?(?:说|表示|认为|觉得|讲)(?:了)?(?:他|她|他们)?(?:也)?"
    r"(?:不同意|同意|不确认|确认|不认可|认可|反对|驳回|没问题|不行|可以)|"
    r"(?:那边|方面|部门|团队|小组|同事|他们|对方)(?:也|都|已经|已)*(?:确认|同意|认可)了?")
_DECISION_VOCABULARY = re.compile(
    r"确认|同意|认可|认同|验收|通过|驳回|批准|签|异议|好的|可以|收到|"
    r"(?<![a-z])(?:ok|okay|agree|approv|confirm|accept|reject)")
# "驳回还是确认我都行": a choice left open.
_EITHER = re.compile(r"(?:驳回|确认|同意|不同意|通过|不通过)(?:还是|或者|或)(?:驳回|确认|同意|"
                     r"不同意|通过|不通过)")
_CLAUSE_SPLIT = re.compile(r"[,，.。!！;；:：、\n]+|\s{2,}")


@dataclass
class Intent:
    kind: str  # confirm | reject | unclear | progress | delivered | comment
    reason: str | None = None
    percent: int | None = None
    status: str | None = None
    links: list[str] = field(default_factory=list)
    why: str | None = None  # how it was read (for the audit trail), in English


def _strip_edges(text: str) -> str:
    return text.strip(_EDGE_PUNCT)


def _words(words: list[str]) -> str:
    folded = sorted({fold(w) for w in words if w.strip()}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in folded)


def _prepare(text: str) -> str:
    """Folded text with typos mended, mentions and confirming negations neutralised
    (each replaced by a marker of the same length, so positions stay comparable)."""
    # Skin tones and emoji variation selectors: 👍🏻 is 👍.
    folded = re.sub(r"[\U0001F3FB-\U0001F3FF\uFE0E\uFE0F]", "", fold(text))
    for typo, right in _TYPOS:
        folded = folded.replace(typo, right)
    for pattern, replacement in _CANTONESE:
        folded = pattern.sub(replacement, folded)
    folded = _REPORTED.sub(lambda m: "~" * len(m.group(0)), folded)
    folded = _MENTION.sub(
        lambda m: m.group(0) if re.search(r"我(?:这次|方|们|这边)?(?:就)?(?:回复|选择|答复)\s*$",
                                          folded[max(0, m.start() - 8):m.start()])
        else "~" * len(m.group(0)), folded)
    folded = _NOMINAL_REJECT.sub(lambda m: "~" * len(m.group(0)), folded)
    return folded


@dataclass
class _Reading:
    confirm_at: int | None = None
    reject_at: int | None = None
    reject_word: str | None = None
    hedges: list[str] = field(default_factory=list)
    weak_only: bool = False
    touches_decision: bool = False  # speaks of signing at all (确认前, 好的, 同意不同意)


def _read(folded: str, keywords: Keywords) -> _Reading:
    reading = _Reading()
    reading.touches_decision = bool(_DECISION_VOCABULARY.search(folded))
    text = _CONFIRMING_NEGATIONS.sub("⊕", folded)
    # 虽然…但…: a concession granted, not a condition on the decision.
    text = re.sub(r"((?:虽然|虽|尽管)[^。！？!?\n]{0,40}?)(但是|但|可是)",
                  lambda m: m.group(1) + "~" * len(m.group(2)), text)
    either = _EITHER.search(text)
    if either:
        reading.hedges.append(either.group(0))
        text = _EITHER.sub(lambda m: "~" * len(m.group(0)), text)
    for pattern in (_QUESTION, _CONDITION, _DEFERRAL):
        found = pattern.search(text)
        if found:
            reading.hedges.append(found.group(0))
    # A-not-A (同意不同意) is a question, not a rejection: take it out of the reading.
    text = re.sub(r"(确认|同意|认可|通过|接受)不\1", lambda m: "~" * len(m.group(0)), text)
    reject_words = _words(keywords.reject)
    rejects = _REJECT_BUILTIN + (f"|{reject_words}" if reject_words else "")
    not_confirm = _NOT_A_CONFIRM.pattern
    extra_negations = _words(keywords.negations)
    if extra_negations:  # the company's words that make a confirm word not one
        not_confirm += f"|(?:{extra_negations})\\s*(?:{_SIGN_VERBS})"
    for found in re.finditer(rejects, text):
        start = found.start()
        word = found.group(0)
        if re.fullmatch(r"(?:请|待|需要|是否|暂不|尚未|未)\S*", word) and re.match(
                not_confirm, text[start:]):
            continue  # 请确认 / 待确认 / 尚未确认: pending, not refused
        if re.search(r"(?:暂时|暂|目前)$", text[max(0, start - 2):start]) and re.match(
                r"(?:无法|不能|不)", word):
            reading.hedges.append("暂时" + word)  # not yet able: a deferral
            continue
        if re.search(r"(?:不是|并非|并不是|也不是)说?\s*$", text[max(0, start - 4):start]):
            reading.hedges.append("不是" + word)  # 不是不同意：a double negation
            continue
        if word.endswith("同意") and text[found.end():found.end() + 1] == "见":
            continue  # 不同意见: "different opinions", a noun
        reading.reject_at, reading.reject_word = start, word
        break
    # Confirms: not asked of someone else, not pending, not "before confirming".
    masked = re.sub(not_confirm, lambda m: "~" * len(m.group(0)), text)
    confirm_words = _words(keywords.confirm)
    confirms = _CONFIRM_BUILTIN + (f"|{confirm_words}" if confirm_words else "")
    for found in re.finditer(confirms, masked):
        start = found.start()
        before = masked[max(0, start - 4):start]
        if re.search(r"(?:" + _NEG + r"|请|是否|待)\s*$", before) and found.group(0) != "⊕":
            continue
        if reading.reject_at is not None and (
                reading.reject_at <= start < reading.reject_at + len(reading.reject_word or "")):
            continue  # the confirm word inside 不确认 itself
        reading.confirm_at = start
        break
    if reading.confirm_at is None:
        for index, clause in enumerate(_CLAUSE_SPLIT.split(masked)):
            if _CLAUSE_CONFIRM.match(clause.strip(_EDGE_PUNCT + "~ ")):
                reading.confirm_at = masked.find(clause.strip()) if index else 0
                break
    if reading.reject_at is None:
        # Only "收到" / "好的" / "OK" / 👌: an acknowledgement, not a decision.
        clauses = [c.strip(_EDGE_PUNCT + "~ ") for c in _CLAUSE_SPLIT.split(text)]
        clauses = [c for c in clauses if c]
        reading.weak_only = bool(clauses) and all(_RECEIPT.match(c) for c in clauses)
    return reading


def _decide(reading: _Reading) -> tuple[str, str]:
    """(kind, why) from the signals found."""
    if reading.reject_at is not None:
        if reading.confirm_at is not None and reading.confirm_at < reading.reject_at:
            return "unclear", (f"confirms, then rejects ({reading.reject_word!r}): "
                               "contradictory")
        if any(h in ("?", "？") for h in reading.hedges):
            return "unclear", f"rejects ({reading.reject_word!r}) as a question"
        return "reject", f"rejects: {reading.reject_word!r}"
    if reading.weak_only:
        return "unclear", "only acknowledges (收到/已阅/好的/OK): not a sign-off"
    if reading.confirm_at is not None:
        if reading.hedges:
            return "unclear", f"confirms, but hedged by {reading.hedges[0]!r}"
        return "confirm", "confirms, nothing takes it back"
    if reading.hedges and reading.touches_decision:
        return "unclear", f"speaks of the decision but leaves it open: {reading.hedges[-1]!r}"
    return "comment", "no confirm or reject in it"


def _reason(text: str, word: str | None) -> str:
    """The rejection's reason: what follows the reject word when it leads the text,
    otherwise the whole text, in the writer's own spelling."""
    if word:
        folded, origin = fold_mapped(text)
        lead = _strip_edges(folded)
        offset = len(folded) - len(folded.lstrip(_EDGE_PUNCT))
        if lead.startswith(word):
            end = offset + len(word)
            return _strip_edges(text[origin[end]:] if end < len(origin) else "")
    return _strip_edges(text)


def _delivered(folded: str, keywords: Keywords) -> bool:
    words = _words(keywords.delivered)
    if not words:
        return False
    for found in re.finditer(words, folded):
        before = folded[max(0, found.start() - 3):found.start()]
        if not re.search(r"(?:未|没|没有|尚未|还没|还未|不|待|是否)$", before):
            return True
    return False


def classify(text: str, keywords: Keywords, *, has_attachment: bool = False) -> Intent:
    folded = _prepare(text)
    if not _strip_edges(folded.replace("~", "")):
        return Intent("comment", why="nothing written")
    links = _URL.findall(text)
    reading = _read(folded, keywords)
    kind, why = _decide(reading)
    if kind == "reject":
        reason = _reason(text, reading.reject_word)
        return Intent("reject", reason=reason or None, links=links, why=why)
    if (has_attachment or links) and _delivered(folded, keywords):
        return Intent("delivered", reason=_strip_edges(text) or None, links=links,
                      why="says it is delivered, with an attachment or a link")
    progress = _progress(text, folded, keywords, links)
    if progress is not None and kind != "confirm":
        return progress
    if kind == "confirm":
        return Intent("confirm", links=links, why=why)
    return Intent(kind, reason=_strip_edges(text) or None, links=links, why=why)


def _progress(text: str, folded: str, keywords: Keywords,
              links: list[str]) -> Intent | None:
    percent_match = _PERCENT.search(folded)
    status = None
    for name, words in keywords.status.items():
        if any(fold(w) in folded for w in words):
            status = name
            break
    progress_words = [fold(w) for w in keywords.progress]
    first = _strip_edges(re.split(r"[。！!？?；;\n]", _strip_edges(folded), maxsplit=1)[0])
    if (percent_match and any(w in folded for w in progress_words)) or (
            status and (any(w in folded for w in progress_words) or first.startswith(
                tuple(fold(w) for w in keywords.status.get(status, []))))):
        percent = int(percent_match.group(1)) if percent_match else None
        if percent is not None and percent > 100:
            percent = None
        return Intent("progress", reason=_progress_reason(text) or None,
                      percent=percent, status=status, links=links, why="a progress report")
    return None


def _progress_reason(text: str) -> str:
    """原因：… / reason after the status, else the whole text."""
    found = re.search(r"(?:原因|理由|说明|備註|备注)\s*[:：]\s*(.+)", text, re.DOTALL)
    if found:
        return _strip_edges(found.group(1))
    return _strip_edges(text)
