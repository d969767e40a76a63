// oiv4kv.Sampler (oiv4kv/sampling.h): class-balanced epochs of a split or a
// subset, built by oiv4kv.RepeatFactorSampler and oiv4kv.ClassAwareSampler.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <system_error>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "oiv4kv/sampling.h"
#include "oiv4kv/store.h"
#include "python/src/arrays.h"
#include "python/src/bindings.h"
#include "python/src/errors.h"

namespace py = pybind11;

namespace oiv4kv::python {
namespace {

// `values` moved into a 1-d numpy array that owns them.
template <typename T>
py::array OwningArray(std::vector<T> values) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({owned->size()}, {sizeof(T)}, owned->data(), owner);
}

// The split of a population and its indices (null: the whole split). A
// population is an oiv4kv.Split, or an object with `.split` (an
// oiv4kv.Split) and `.indices` (ascending split indices), as oiv4kv.Subset.
std::pair<SplitRef, std::shared_ptr<const std::vector<uint64_t>>> Population(
    const py::object& population) {
  if (py::isinstance<SplitRef>(population)) return {population.cast<SplitRef>(), nullptr};
  if (!py::hasattr(population, "split") || !py::hasattr(population, "indices") ||
      !py::isinstance<SplitRef>(population.attr("split"))) {
    throw py::type_error("population must be an oiv4kv.Split or a subset with .split (an "
                         "oiv4kv.Split) and .indices, not " +
                         std::string(py::str(py::type::of(population).attr("__name__"))));
  }
  const auto indices = py::array_t<uint64_t, py::array::c_style | py::array::forcecast>::ensure(
      population.attr("indices"));
  if (!indices || indices.ndim() != 1) {
    throw py::type_error("population.indices must be a 1-d array of split indices");
  }
  auto subset = std::make_shared<std::vector<uint64_t>>(indices.data(),
                                                        indices.data() + indices.size());
  return {population.attr("split").cast<SplitRef>(), std::move(subset)};
}

// A built sampler and the split it samples (for its store's vocabularies).
struct PySampler {
  SplitRef split;
  std::shared_ptr<const Sampler> sampler;
};

PySampler BuildSampler(const py::object& population, SamplerOptions options) {
  auto [split, subset] = Population(population);
  std::shared_ptr<const Store> store = split.handle->Get();
  std::shared_ptr<const Sampler> sampler;
  Status status;
  {
    py::gil_scoped_release release;
    status = Sampler::Build(store.get(), split.split, std::move(subset), options, &sampler);
  }
  ThrowIfError(status);
  return PySampler{std::move(split), std::move(sampler)};
}

SamplingClasses ClassesArg(const std::string& classes) {
  return EnumArg<SamplingClasses>("classes", classes, ParseSamplingClasses,
                                  SamplingClassesNames());
}

// 0.5 -> 5: the store keeps confidence as int(Confidence * 10).
uint32_t ConfidenceArg(double min_confidence) {
  if (!(min_confidence > 0 && min_confidence <= 1)) {
    throw py::value_error("min_confidence must be in (0, 1], not " +
                          std::to_string(min_confidence));
  }
  return static_cast<uint32_t>(std::ceil(min_confidence * 10 - 1e-9));
}

py::dict ReportDict(const PySampler& s) {
  const SamplingReport report = s.sampler->Report();
  std::shared_ptr<const Store> store = s.split.handle->Get();
  const Vocabulary& vocab = store->vocabulary(
      report.classes == SamplingClasses::kBoxes ? VocabKind::kBoxable : VocabKind::kAll);
  py::list per_class;
  for (const ClassFrequency& f : report.per_class) {
    py::dict row;
    row["label"] = f.label;
    row["mid"] = f.label < vocab.size() ? Utf8Str(vocab.mid(f.label)) : py::str("");
    row["name"] = f.label < vocab.size() ? Utf8Str(vocab.display_name(f.label)) : py::str("");
    row["images"] = f.images;
    row["expected"] = f.expected;
    per_class.append(row);
  }
  py::dict d;
  d["method"] = std::string(SamplingMethodName(report.method));
  d["classes"] = std::string(SamplingClassesName(report.classes));
  d["threshold"] = report.threshold;
  d["num_images"] = report.num_images;
  d["images_with_classes"] = report.images_with_classes;
  d["expected_epoch_length"] = report.expected_epoch_length;
  d["per_class"] = per_class;
  return d;
}

bool SameDirectory(const std::string& a, const std::string& b) {
  std::error_code error;
  return a == b || std::filesystem::equivalent(a, b, error);
}

}  // namespace

std::shared_ptr<const Sampler> SamplerArg(const SplitRef& split, const py::object& sampler) {
  if (sampler.is_none()) return nullptr;
  if (!py::isinstance<PySampler>(sampler)) {
    throw py::type_error("sampler must be an oiv4kv.Sampler (oiv4kv.RepeatFactorSampler or "
                         "oiv4kv.ClassAwareSampler)");
  }
  const PySampler& s = sampler.cast<const PySampler&>();
  // Another Store object of the same directory is fine (a torch dataset
  // opens its own); another store's records are not.
  if (s.split.handle != split.handle && !SameDirectory(s.split.handle->path(),
                                                        split.handle->path())) {
    throw py::value_error("the sampler was built on the store at " + s.split.handle->path() +
                          ", not on this split's store at " + split.handle->path());
  }
  return s.sampler;
}

void BindSampling(py::module_& m) {
  py::class_<PySampler>(m, "Sampler", R"doc(
A class-balanced sampler of a split or subset (oiv4kv/sampling.h), made by
oiv4kv.RepeatFactorSampler or oiv4kv.ClassAwareSampler. It reads each
record's classes once, when built (without the GIL), and then holds only
those: epoch(seed, epoch) is a pure function of them, the options, seed and
epoch. Give it to Split.scan(sampler=...) or oiv4kv.Loader(sampler=...) to
read its epochs shuffled, sharded into equal shares and resumable, or to
oiv4kv.torch.ClassBalancedSampler for a DataLoader.
)doc")
      .def("epoch", [](const PySampler& s, uint64_t seed, uint64_t epoch) {
             std::vector<uint64_t> indices;
             {
               py::gil_scoped_release release;
               indices = s.sampler->Epoch(seed, epoch);
             }
             return OwningArray(std::move(indices));
           }, py::arg("seed"), py::arg("epoch"), R"doc(
The split indices of epoch `epoch` (uint64, ascending, an image's repeats
adjacent), the same array for the same (seed, epoch). Repeat-factor: image i
appears floor(r_i) + Bernoulli(frac(r_i)) times, so the length varies by
epoch around expected_epoch_length; class-aware: exactly epoch_length draws.
)doc")
      .def_property_readonly("expected_epoch_length",
                             [](const PySampler& s) { return s.sampler->Report().expected_epoch_length; },
                             "Sum of the expected repeats over the population.")
      .def_property_readonly("method", [](const PySampler& s) {
             return std::string(SamplingMethodName(s.sampler->options().method));
           })
      .def_property_readonly("classes", [](const PySampler& s) {
             return std::string(SamplingClassesName(s.sampler->options().classes));
           })
      .def_property_readonly("name", [](const PySampler& s) { return s.sampler->Name(); },
                             "'<method>:<fingerprint>', what a scan state records.")
      .def_property_readonly("split", [](const PySampler& s) { return s.split; })
      .def_property_readonly("indices", [](const PySampler& s) {
             const std::vector<uint64_t>& v = s.sampler->indices();
             return py::array_t<uint64_t>(static_cast<py::ssize_t>(v.size()), v.data());
           }, "The population's split indices, ascending (a copy).")
      .def_property_readonly("expected_repeats", [](const PySampler& s) {
             const std::vector<double>& v = s.sampler->expected_repeats();
             return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data());
           }, "Per population member (indices[j]): its repeat factor r_j, or its expected "
              "draws per epoch (class-aware). A copy.")
      .def("__len__", [](const PySampler& s) { return s.sampler->indices().size(); },
           "The population's size (not an epoch's length).")
      .def("report", &ReportDict, R"doc(
Per-class frequency before and after sampling, as a dict: "method",
"classes", "threshold", "num_images" (the population),
"images_with_classes", "expected_epoch_length", and "per_class": a list of
dicts {"label" (index in the classes' vocabulary: boxable for 'boxes', all
for 'image_labels'), "mid", "name" (display name), "images" (images of the
population holding the class: each once per epoch before sampling),
"expected" (expected epoch entries holding it after sampling)}, most
frequent class first. `oiv4-kv sample-report` prints the same figures.
)doc")
      .def("report_text", [](const PySampler& s, size_t top) {
             return FormatSamplingReport(*s.split.handle->Get(), s.sampler->Report(), top);
           }, py::arg("top") = 0, "report() as `oiv4-kv sample-report` prints it (top: "
                                  "the most frequent classes only; 0: all).")
      .def("__repr__", [](const PySampler& s) {
             return "<oiv4kv.Sampler " + s.sampler->Name() + " of " +
                    std::to_string(s.sampler->indices().size()) + " " +
                    std::string(SplitName(s.sampler->split())) + " images>";
           });

  m.def("RepeatFactorSampler",
        [](const py::object& population, double threshold, const std::string& classes,
           double min_confidence) {
          SamplerOptions o;
          o.method = SamplingMethod::kRepeatFactor;
          o.threshold = threshold;
          o.classes = ClassesArg(classes);
          o.min_confidence = ConfidenceArg(min_confidence);
          return BuildSampler(population, o);
        },
        py::arg("population"), py::kw_only(), py::arg("threshold") = 0.001,
        py::arg("classes") = "boxes", py::arg("min_confidence") = 0.5, R"doc(
Repeat-factor sampling (LVIS; Detectron2's RepeatFactorTrainingSampler) of
`population`, an oiv4kv.Split or a subset (.split and .indices). With f(c)
the fraction of the population's images holding class c, image i's repeat
factor is r_i = max over its classes of max(1, sqrt(threshold / f(c))) (1
without classes); an epoch holds it floor(r_i) + Bernoulli(frac(r_i)) times,
drawn from (seed, epoch). classes: 'boxes' (the boxable labels of its
"bobjects") or 'image_labels' (its "objects" with confidence >=
min_confidence). Returns an oiv4kv.Sampler; InvalidArgumentError for a
threshold outside (0, 1] or a bad subset.
)doc");

  m.def("ClassAwareSampler",
        [](const py::object& population, std::optional<uint64_t> epoch_length,
           const std::string& classes, double min_confidence) {
          SamplerOptions o;
          o.method = SamplingMethod::kClassAware;
          if (epoch_length && *epoch_length == 0) {
            throw py::value_error("epoch_length must be > 0 (or None: the population's size)");
          }
          o.epoch_length = epoch_length.value_or(0);
          o.classes = ClassesArg(classes);
          o.min_confidence = ConfidenceArg(min_confidence);
          return BuildSampler(population, o);
        },
        py::arg("population"), py::kw_only(), py::arg("epoch_length") = py::none(),
        py::arg("classes") = "boxes", py::arg("min_confidence") = 0.5, R"doc(
Class-aware sampling (Shen et al. 2016) of `population` (as
RepeatFactorSampler): each of `epoch_length` draws (None: the population's
size) picks a class uniformly among those present, then an image of that
class uniformly; images without classes are never drawn. Returns an
oiv4kv.Sampler.
)doc");
}

}  // namespace oiv4kv::python
