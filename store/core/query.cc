// Queries (oiv4kv/query.h): the text parser and Store::Select, which runs a
// query as set operations on the label index (store/core/label_index.h).
#include "oiv4kv/query.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <numeric>

#include "oiv4kv/store.h"
#include "store/core/label_index.h"

namespace oiv4kv {

namespace {
constexpr std::array<std::string_view, kNumBoxFlags> kBoxFlagNames = {
    "occluded", "truncated", "group_of", "depiction", "inside"};
}  // namespace

std::string_view BoxFlagName(BoxFlag flag) { return kBoxFlagNames[static_cast<int>(flag)]; }

std::optional<BoxFlag> ParseBoxFlag(std::string_view name) {
  for (BoxFlag f : kAllBoxFlags) {
    if (BoxFlagName(f) == name) return f;
  }
  return std::nullopt;
}

std::vector<std::string> BoxFlagNames() {
  return {kBoxFlagNames.begin(), kBoxFlagNames.end()};
}

uint8_t MachineSources() {
  uint8_t bits = 0;
  for (size_t i = 0; i < kSourceNames.size(); ++i) {
    if (kSourceNames[i] == "machine" || kSourceNames[i] == "activemil") bits |= 1u << i;
  }
  return bits;
}

bool BoxFilter::Matches(const int8_t (&flags)[kNumBoxFlags], uint8_t source) const {
  if (source >= 8 || (sources & (1u << source)) == 0) return false;
  for (int f = 0; f < kNumBoxFlags; ++f) {
    const bool set = flags[f] == 1;
    if ((require >> f & 1) != 0 && !set) return false;
    if ((exclude >> f & 1) != 0 && set) return false;
  }
  return true;
}

Query Query::All() { return Query(); }

Query Query::Box(uint32_t label, uint32_t min_count, BoxFilter filter) {
  Query q;
  q.kind = Kind::kBox;
  q.label = label;
  q.min_count = min_count;
  q.filter = filter;
  return q;
}

Query Query::Label(uint32_t label, double min_confidence) {
  Query q;
  q.kind = Kind::kLabel;
  q.label = label;
  q.min_confidence = min_confidence;
  return q;
}

Query Query::Trainable(uint32_t label, double min_confidence) {
  Query q = Label(label, min_confidence);
  q.kind = Kind::kTrainable;
  return q;
}

Query Query::And(std::vector<Query> children) {
  Query q;
  q.kind = Kind::kAnd;
  q.children = std::move(children);
  return q;
}

Query Query::Or(std::vector<Query> children) {
  Query q;
  q.kind = Kind::kOr;
  q.children = std::move(children);
  return q;
}

Query Query::Not(Query child) {
  Query q;
  q.kind = Kind::kNot;
  q.children.push_back(std::move(child));
  return q;
}

// ---- Parser

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

bool IsDelimiter(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '(' || c == ')' || c == '[' ||
         c == ']' || c == ',' || c == '>' || c == '=' || c == '@' || c == '"';
}

class Parser {
 public:
  Parser(std::string_view text, const Store& store) : text_(text), store_(store) {}

  Status Parse(Query* out) {
    SkipSpace();
    if (pos_ == text_.size()) return Error("empty query: expected a term such as box:Dog");
    OIV4KV_RETURN_IF_ERROR(ParseOr(out));
    SkipSpace();
    if (pos_ != text_.size()) {
      return Error("unexpected '" + std::string(Word()) + "': expected AND, OR or the end");
    }
    return Status::OK();
  }

 private:
  Status Error(const std::string& what) const { return ErrorAt(pos_, what); }
  Status ErrorAt(size_t pos, const std::string& what) const {
    return Status::InvalidArgument("query '" + std::string(text_) + "', column " +
                                   std::to_string(pos + 1) + ": " + what);
  }

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) ++pos_;
  }
  // The undelimited word at pos_ (not consumed).
  std::string_view Word() const {
    size_t end = pos_;
    while (end < text_.size() && !IsDelimiter(text_[end])) ++end;
    if (end == pos_ && end < text_.size()) ++end;  // one delimiter character
    return text_.substr(pos_, end - pos_);
  }
  // Consumes keyword `kw` (case-insensitive, a whole word) if it is next.
  bool Keyword(std::string_view kw) {
    SkipSpace();
    const std::string_view w = Word();
    if (Lower(w) != kw) return false;
    pos_ += w.size();
    return true;
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  Status ParseOr(Query* out) {
    std::vector<Query> terms(1);
    OIV4KV_RETURN_IF_ERROR(ParseAnd(&terms[0]));
    while (Keyword("or")) {
      terms.emplace_back();
      OIV4KV_RETURN_IF_ERROR(ParseAnd(&terms.back()));
    }
    *out = terms.size() == 1 ? std::move(terms[0]) : Query::Or(std::move(terms));
    return Status::OK();
  }

  Status ParseAnd(Query* out) {
    std::vector<Query> terms(1);
    OIV4KV_RETURN_IF_ERROR(ParseUnary(&terms[0]));
    while (Keyword("and")) {
      terms.emplace_back();
      OIV4KV_RETURN_IF_ERROR(ParseUnary(&terms.back()));
    }
    *out = terms.size() == 1 ? std::move(terms[0]) : Query::And(std::move(terms));
    return Status::OK();
  }

  Status ParseUnary(Query* out) {
    if (Keyword("not")) {
      Query child;
      OIV4KV_RETURN_IF_ERROR(ParseUnary(&child));
      *out = Query::Not(std::move(child));
      return Status::OK();
    }
    if (Consume('(')) {
      OIV4KV_RETURN_IF_ERROR(ParseOr(out));
      if (!Consume(')')) return Error("expected ')'");
      return Status::OK();
    }
    return ParseTerm(out);
  }

  Status ParseTerm(Query* out) {
    SkipSpace();
    if (pos_ == text_.size()) return Error("expected a term (box:NAME, label:NAME, a flag...)");
    const size_t start = pos_;
    std::string head;
    while (pos_ < text_.size() && !IsDelimiter(text_[pos_]) && text_[pos_] != ':') {
      head += text_[pos_++];
    }
    head = Lower(head);
    if (pos_ < text_.size() && text_[pos_] == ':') {
      ++pos_;
      if (head == "box") return ParseBox(out);
      if (head == "label" || head == "trainable") {
        const bool trainable = head == "trainable";
        std::vector<uint32_t> labels;
        OIV4KV_RETURN_IF_ERROR(ParseLabel(trainable ? VocabKind::kTrainable : VocabKind::kAll,
                                          /*allow_any=*/false, &labels));
        double confidence = 0.5;
        if (Consume('@')) OIV4KV_RETURN_IF_ERROR(ParseConfidence(&confidence));
        std::vector<Query> terms;
        for (uint32_t label : labels) {
          terms.push_back(trainable ? Query::Trainable(label, confidence)
                                    : Query::Label(label, confidence));
        }
        *out = terms.size() == 1 ? std::move(terms[0]) : Query::Or(std::move(terms));
        return Status::OK();
      }
      return ErrorAt(start, "unknown term '" + head + ":': expected box:, label: or trainable:");
    }
    if (head == "all") {
      *out = Query::All();
      return Status::OK();
    }
    pos_ = start;
    BoxFilter filter;
    OIV4KV_RETURN_IF_ERROR(ParseCondition(&filter));
    *out = Query::Box(Query::kAnyLabel, 1, filter);
    return Status::OK();
  }

  Status ParseBox(Query* out) {
    std::vector<uint32_t> labels;
    OIV4KV_RETURN_IF_ERROR(ParseLabel(VocabKind::kBoxable, /*allow_any=*/true, &labels));
    BoxFilter filter;
    if (pos_ < text_.size() && text_[pos_] == '[') {
      ++pos_;
      do {
        OIV4KV_RETURN_IF_ERROR(ParseCondition(&filter));
      } while (Consume(','));
      if (!Consume(']')) return Error("expected ',' or ']' after a box condition");
    }
    uint32_t min_count = 1;
    SkipSpace();
    if (text_.substr(pos_, 2) == ">=") {
      pos_ += 2;
      SkipSpace();
      const size_t at = pos_;
      uint64_t n = 0;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0 &&
             n < 1000000) {
        n = n * 10 + static_cast<uint64_t>(text_[pos_++] - '0');
      }
      if (pos_ == at || n < 1 || n >= 1000000) {
        return ErrorAt(at, "expected a box count from 1 after '>='");
      }
      min_count = static_cast<uint32_t>(n);
    }
    std::vector<Query> terms;
    for (uint32_t label : labels) terms.push_back(Query::Box(label, min_count, filter));
    *out = terms.size() == 1 ? std::move(terms[0]) : Query::Or(std::move(terms));
    return Status::OK();
  }

  Status ParseCondition(BoxFilter* filter) {
    SkipSpace();
    const size_t start = pos_;
    const bool negate = Consume('!');
    SkipSpace();
    std::string word;
    while (pos_ < text_.size() && !IsDelimiter(text_[pos_])) word += text_[pos_++];
    word = Lower(word);
    if (word == "human" || word == "machine") {
      if (negate) return ErrorAt(start, "'!" + word + "': write the other source instead");
      const uint8_t machine = MachineSources();
      filter->sources &= word == "machine" ? machine : static_cast<uint8_t>(0x3f & ~machine);
      return Status::OK();
    }
    if (word == "source" && Consume('=')) {
      SkipSpace();
      std::string name;
      while (pos_ < text_.size() && !IsDelimiter(text_[pos_])) name += text_[pos_++];
      for (size_t i = 0; i < kSourceNames.size(); ++i) {
        if (kSourceNames[i] == Lower(name)) {
          filter->sources &= static_cast<uint8_t>(negate ? 0x3f & ~(1u << i) : 1u << i);
          return Status::OK();
        }
      }
      std::vector<std::string> names(kSourceNames.begin(), kSourceNames.end());
      return ErrorAt(start, "unknown source '" + name + "' (" + JoinNames(names) + ")");
    }
    std::string_view flag = word;
    if (flag.starts_with("is_")) flag.remove_prefix(3);
    if (const std::optional<BoxFlag> f = ParseBoxFlag(flag)) {
      const uint8_t bit = static_cast<uint8_t>(1u << static_cast<int>(*f));
      (negate ? filter->exclude : filter->require) |= bit;
      return Status::OK();
    }
    std::vector<std::string> names = BoxFlagNames();
    names.push_back("human");
    names.push_back("machine");
    names.push_back("source=NAME");
    return ErrorAt(start, word.empty() ? "expected a term (box:NAME, label:NAME, a flag...)"
                                       : "unknown term or box condition '" + word + "' (" +
                                             JoinNames(names) + ")");
  }

  Status ParseConfidence(double* out) {
    SkipSpace();
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '.')) {
      ++pos_;
    }
    const std::string number(text_.substr(start, pos_ - start));
    char* end = nullptr;
    const double v = number.empty() ? 0 : std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(v > 0 && v <= 1)) {
      return ErrorAt(start, "expected a confidence in (0, 1] after '@', got '" + number + "'");
    }
    *out = v;
    return Status::OK();
  }

  // A label of `kind`'s list: "*" (if allow_any), "#N", a MID, or a display
  // name; every class of that name (a few names are shared in the all list).
  Status ParseLabel(VocabKind kind, bool allow_any, std::vector<uint32_t>* labels) {
    const Vocabulary& vocab = store_.vocabulary(kind);
    const std::string list = std::string(VocabKindName(kind));
    const size_t start = pos_;
    std::string name;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      const size_t close = text_.find('"', pos_ + 1);
      if (close == std::string_view::npos) return ErrorAt(start, "unterminated quoted name");
      name = text_.substr(pos_ + 1, close - pos_ - 1);
      pos_ = close + 1;
    } else {
      while (pos_ < text_.size() && !IsDelimiter(text_[pos_])) name += text_[pos_++];
      if (name.empty()) return ErrorAt(start, "expected a class name, MID or #index");
      if (name == "*") {
        if (!allow_any) return ErrorAt(start, "'*' (any class) is only for box:");
        labels->push_back(Query::kAnyLabel);
        return Status::OK();
      }
      if (name[0] == '#') {
        const std::string digits = name.substr(1);
        const bool number = !digits.empty() && digits.size() < 10 &&
                            std::all_of(digits.begin(), digits.end(),
                                        [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        if (!number || std::stoull(digits) >= vocab.size()) {
          return ErrorAt(start, "class index '" + name + "' is not in the " + list + " list (#0.." +
                                    "#" + std::to_string(vocab.size() == 0 ? 0 : vocab.size() - 1) +
                                    ")");
        }
        labels->push_back(static_cast<uint32_t>(std::stoull(digits)));
        return Status::OK();
      }
    }
    if (name.starts_with("/")) {
      if (const std::optional<uint32_t> i = vocab.Find(name)) {
        labels->push_back(*i);
        return Status::OK();
      }
      return ErrorAt(start, "unknown MID '" + name + "' in the " + list + " list");
    }
    const std::string want = Lower(name);
    for (size_t i = 0; i < vocab.size(); ++i) {
      if (Lower(vocab.display_name(i)) == want) labels->push_back(static_cast<uint32_t>(i));
    }
    if (!labels->empty()) return Status::OK();
    // The closest names: least edit distance, then list order.
    std::vector<std::pair<size_t, size_t>> near;  // distance, index
    for (size_t i = 0; i < vocab.size(); ++i) {
      near.emplace_back(EditDistance(want, Lower(vocab.display_name(i))), i);
    }
    std::sort(near.begin(), near.end());
    std::vector<std::string> suggestions;
    const size_t limit = std::max<size_t>(2, want.size() / 2);
    for (const auto& [distance, i] : near) {
      if (suggestions.size() == 5 || distance > limit) break;
      const std::string shown(vocab.display_name(i));
      if (std::find(suggestions.begin(), suggestions.end(), shown) == suggestions.end()) {
        suggestions.push_back(shown);
      }
    }
    std::string message = "unknown " + list + " class '" + name + "'";
    if (suggestions.empty()) {
      message += " (no class name is close; names match case-insensitively, whole)";
    } else {
      message += "; did you mean " + JoinNames(suggestions, /*quote=*/true) + "?";
    }
    return ErrorAt(start, message);
  }

  std::string_view text_;
  const Store& store_;
  size_t pos_ = 0;
};

}  // namespace

Status ParseQuery(std::string_view text, const Store& store, Query* query) {
  return Parser(text, store).Parse(query);
}

// ---- Evaluation

namespace {

using Indices = std::vector<uint64_t>;

Indices Intersect(const Indices& a, const Indices& b) {
  Indices out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// Whether evaluating `q` reads records: a box term with conditions.
bool ReadsRecords(const Query& q) {
  if (q.kind == Query::Kind::kBox) return !q.filter.empty();
  for (const Query& c : q.children) {
    if (ReadsRecords(c)) return true;
  }
  return false;
}

uint32_t ConfidenceLevel(double c) {
  // int(Confidence * 10) >= level  <=>  Confidence >= level / 10 for stored
  // tenths; the epsilon keeps 0.7 (7.000000000000001 tenths) at level 7.
  return static_cast<uint32_t>(std::ceil(c * 10 - 1e-9));
}

}  // namespace

class QueryEvaluator {
 public:
  QueryEvaluator(const Store& store, Split split) : store_(store), split_(split) {}

  Status Validate(const Query& q) const {
    switch (q.kind) {
      case Query::Kind::kAll:
        return Status::OK();
      case Query::Kind::kBox:
        if (q.label != Query::kAnyLabel && q.label >= Vocab(VocabKind::kBoxable).size()) {
          return Status::InvalidArgument("box label " + std::to_string(q.label) +
                                         " is outside the boxable list (" +
                                         std::to_string(Vocab(VocabKind::kBoxable).size()) +
                                         " classes)");
        }
        return Status::OK();
      case Query::Kind::kLabel:
      case Query::Kind::kTrainable: {
        const VocabKind kind =
            q.kind == Query::Kind::kLabel ? VocabKind::kAll : VocabKind::kTrainable;
        if (q.label != Query::kAnyLabel && q.label >= Vocab(kind).size()) {
          return Status::InvalidArgument("label " + std::to_string(q.label) +
                                         " is outside the " + std::string(VocabKindName(kind)) +
                                         " list (" + std::to_string(Vocab(kind).size()) +
                                         " classes)");
        }
        if (!(q.min_confidence > 0 && q.min_confidence <= 1)) {
          return Status::InvalidArgument("confidence threshold " +
                                         std::to_string(q.min_confidence) + " is not in (0, 1]");
        }
        return Status::OK();
      }
      case Query::Kind::kAnd:
      case Query::Kind::kOr:
      case Query::Kind::kNot:
        if (q.children.empty() || (q.kind == Query::Kind::kNot && q.children.size() != 1)) {
          return Status::InvalidArgument(q.kind == Query::Kind::kNot
                                             ? "NOT takes one operand"
                                             : "AND / OR need operands");
        }
        for (const Query& c : q.children) OIV4KV_RETURN_IF_ERROR(Validate(c));
        return Status::OK();
    }
    return Status::InvalidArgument("unknown query kind");
  }

  // The examples of `domain` (null: the whole split) that meet `q`, ascending.
  Status Eval(const Query& q, const Indices* domain, Indices* out) {
    out->clear();
    switch (q.kind) {
      case Query::Kind::kAll:
        *out = domain != nullptr ? *domain : Everything();
        return Status::OK();
      case Query::Kind::kBox:
        return EvalBox(q, domain, out);
      case Query::Kind::kLabel:
      case Query::Kind::kTrainable:
        return EvalLabel(q, domain, out);
      case Query::Kind::kNot: {
        Indices inner;
        OIV4KV_RETURN_IF_ERROR(Eval(q.children[0], domain, &inner));
        const Indices all = domain != nullptr ? *domain : Everything();
        std::set_difference(all.begin(), all.end(), inner.begin(), inner.end(),
                            std::back_inserter(*out));
        return Status::OK();
      }
      case Query::Kind::kAnd: {
        // Terms the index answers first; each narrows the domain of the
        // next, so terms that read records read only what is left.
        std::vector<const Query*> order;
        for (const Query& c : q.children) order.push_back(&c);
        std::stable_partition(order.begin(), order.end(),
                              [](const Query* c) { return !ReadsRecords(*c); });
        Indices current;
        const Indices* within = domain;
        for (const Query* c : order) {
          Indices next;
          OIV4KV_RETURN_IF_ERROR(Eval(*c, within, &next));
          current = std::move(next);
          within = &current;
          if (current.empty()) break;
        }
        *out = std::move(current);
        return Status::OK();
      }
      case Query::Kind::kOr: {
        for (const Query& c : q.children) {
          Indices part, merged;
          OIV4KV_RETURN_IF_ERROR(Eval(c, domain, &part));
          std::set_union(out->begin(), out->end(), part.begin(), part.end(),
                         std::back_inserter(merged));
          *out = std::move(merged);
        }
        return Status::OK();
      }
    }
    return Status::InvalidArgument("unknown query kind");
  }

 private:
  const Vocabulary& Vocab(VocabKind kind) const { return store_.vocabulary(kind); }
  uint64_t Size() const { return store_.NumExamples(split_); }
  Indices Everything() const {
    Indices all(Size());
    std::iota(all.begin(), all.end(), uint64_t{0});
    return all;
  }
  Status Postings(LabelList list, const LabelPostings** out) {
    return store_.LabelIndex(split_, static_cast<int>(list), out);
  }

  // Examples whose summed value over every label of `list` reaches `min`
  // (box totals), or with any entry of value >= min (image-level).
  Status AnyLabel(LabelList list, uint32_t min, Indices* out) {
    const LabelPostings* p;
    OIV4KV_RETURN_IF_ERROR(Postings(list, &p));
    std::vector<uint32_t> value(Size(), 0);
    for (size_t label = 0; label < p->num_labels(); ++label) {
      OIV4KV_RETURN_IF_ERROR(p->ForEach(label, [&](uint64_t index, uint32_t v) {
        if (list == LabelList::kBoxes) {
          value[index] += v;
        } else {
          value[index] = std::max(value[index], v);
        }
      }));
    }
    for (uint64_t i = 0; i < value.size(); ++i) {
      if (value[i] >= min) out->push_back(i);
    }
    return Status::OK();
  }

  Status EvalBox(const Query& q, const Indices* domain, Indices* out) {
    // Candidates from the index: boxes of the label (all of them, whatever
    // the conditions) reach min_count.
    Indices candidates;
    if (q.label == Query::kAnyLabel) {
      OIV4KV_RETURN_IF_ERROR(AnyLabel(LabelList::kBoxes, q.min_count, &candidates));
    } else {
      const LabelPostings* p;
      OIV4KV_RETURN_IF_ERROR(Postings(LabelList::kBoxes, &p));
      OIV4KV_RETURN_IF_ERROR(p->Decode(q.label, q.min_count, &candidates));
    }
    if (domain != nullptr) candidates = Intersect(candidates, *domain);
    if (q.filter.empty()) {
      *out = std::move(candidates);
      return Status::OK();
    }
    // Conditions on single boxes: read the candidates' records.
    for (uint64_t index : candidates) {
      ExampleView view;
      OIV4KV_RETURN_IF_ERROR(store_.At(split_, index, &view));
      const BoxesView boxes = view.bobjects();
      uint32_t count = 0;
      for (size_t b = 0; b < boxes.size() && count < q.min_count; ++b) {
        if (q.label != Query::kAnyLabel && boxes.label[b] != q.label) continue;
        const int8_t flags[kNumBoxFlags] = {boxes.is_occluded[b], boxes.is_truncated[b],
                                            boxes.is_group_of[b], boxes.is_depiction[b],
                                            boxes.is_inside[b]};
        if (q.filter.Matches(flags, boxes.source[b])) ++count;
      }
      if (count >= q.min_count) out->push_back(index);
    }
    return Status::OK();
  }

  Status EvalLabel(const Query& q, const Indices* domain, Indices* out) {
    const uint32_t level = ConfidenceLevel(q.min_confidence);
    Indices found;
    if (q.label == Query::kAnyLabel) {
      OIV4KV_RETURN_IF_ERROR(AnyLabel(LabelList::kImageLevel, level, &found));
    } else {
      uint32_t label = q.label;
      if (q.kind == Query::Kind::kTrainable) {
        // A trainable class's entries are those of its class in the all
        // list (label_index.h).
        const std::string_view mid = Vocab(VocabKind::kTrainable).mid(q.label);
        const std::optional<uint32_t> all = Vocab(VocabKind::kAll).Find(mid);
        if (!all) {
          return Status::Corruption(store_.path() + ": trainable class " + std::string(mid) +
                                    " is not in the all list");
        }
        label = *all;
      }
      const LabelPostings* p;
      OIV4KV_RETURN_IF_ERROR(Postings(LabelList::kImageLevel, &p));
      OIV4KV_RETURN_IF_ERROR(p->Decode(label, level, &found));
    }
    *out = domain != nullptr ? Intersect(found, *domain) : std::move(found);
    return Status::OK();
  }

  const Store& store_;
  const Split split_;
};

Status Store::Select(Split split, const Query& query, std::vector<uint64_t>* indices) const {
  indices->clear();
  QueryEvaluator evaluator(*this, split);
  OIV4KV_RETURN_IF_ERROR(evaluator.Validate(query));
  if (!manifest_.num_examples[static_cast<int>(split)]) return Status::OK();  // no such split
  for (int list = 0; list < kNumLabelLists; ++list) {  // an unindexed store fails every query
    const LabelPostings* postings;
    OIV4KV_RETURN_IF_ERROR(LabelIndex(split, list, &postings));
  }
  return evaluator.Eval(query, nullptr, indices);
}

}  // namespace oiv4kv
