"""Config loading: shipped configs validate, and every kind of mistake names the key's path."""
from pathlib import Path

import pytest

from qboost_tn.experiments import ConfigError, apply_overrides, find_config, load_config, shipped_configs
from qboost_tn.experiments.config import read_yaml

BASE = {
    "name": "t",
    "data": {"name": "digits"},
    "split": {"n_train": 100, "n_val": 50},
    "models": [{"kind": "logistic-regression", "name": "logreg"}],
}


def problems(overrides, base=BASE):
    with pytest.raises(ConfigError) as info:
        load_config(base, overrides)
    return info.value.problems


def test_every_shipped_config_validates():
    names = set(shipped_configs())
    assert {"mnist", "mnist-minibatch", "digits", "bank-marketing", "custom-csv"} <= names
    for name in names:
        cfg = load_config(name, check_paths=False)
        assert cfg["models"], name
        assert Path(cfg["output"]).is_absolute()


def test_defaults_are_filled_in():
    cfg = load_config(BASE)
    assert cfg["seeds"] == [0]
    assert cfg["split"]["evaluate_on"] == "test"
    assert cfg["data"]["scale"] == "auto"  # images min-max, tabular log1p of skewed columns first
    assert cfg["models"][0]["params"] == {"C": 1.0, "l1_ratio": 0.0, "precision": "float32", "max_iter": 1000}


@pytest.mark.parametrize("override, expected", [
    ("colour=red", "colour: unknown key; expected one of: name, description"),
    ("nmae=x", "(did you mean 'name'?)"),
    ("name=3", "name: expected str, got int"),
    ("name=a b", "name: 'a b' must be letters"),
    ("description=[1]", "description: expected str, got list"),
    ("data=digits", "data: expected mapping, got str"),
    ("data.name=mnistt", "data.name: 'mnistt' is not one of mnist"),
    ("data.options=[1]", "data.options: expected mapping, got list"),
    ("data.options.sizee=20", "data.options.sizee: data set 'digits' takes no such option; it takes size"),
    ("data.scale=zscore", "data.scale: 'zscore' is not one of minmax, standard"),
    ("data.extra=1", "data.extra: unknown key"),
    ("split.n_train=abc", "split.n_train: expected int or null, got str"),
    ("split.n_train=1.5", "split.n_train: expected int or null, got float"),
    ("split.n_train=0", "split.n_train: must be >= 1, got 0"),
    ("split.n_val=-1", "split.n_val: must be >= 0, got -1"),
    ("split.n_test=true", "split.n_test: expected int or null, got bool"),
    ("split.train_size=1.5", "split.train_size: must lie in (0.0, 1.0), got 1.5"),
    ("split.train_size=0.8", "split: give either train_size or n_train/n_val, not both"),
    ("split.stratify=1", "split.stratify: expected bool, got int"),
    ("split.evaluate_on=train", "split.evaluate_on: 'train' is not one of test, val"),
    ("split.n_tran=5", "split.n_tran: unknown key"),
    ("seeds=0", "seeds: expected list of int, got int"),
    ("seeds=[]", "seeds: needs at least 1 item"),
    ("seeds=[0, -1]", "seeds[1]: must be >= 0, got -1"),
    ("seeds=[true]", "seeds[0]: expected int, got bool"),
    ("output=[runs]", "output: expected str, got list"),
    ("models=[]", "models: needs at least 1 item"),
    ("models=logreg", "models: expected list of mapping, got str"),
    ("models[0]=logreg", "models[0]: expected mapping, got str"),
    ("models[0].kind=svm", "models[0].kind: 'svm' is not one of"),
    ("models[0].kind=3", "models[0].kind: expected str, got int"),
    ("models[0].name=a/b", "models[0].name: 'a/b' must be letters"),
    ("models[0].colour=red", "models[0].colour: unknown key; expected one of: kind, name, params"),
    ("models[0].params=1", "models[0].params: expected mapping, got int"),
    ("models[0].params.C=abc", "models[0].params.C: expected float or list of float, got str"),
    ("models[0].params.C=-1", "models[0].params.C: must lie in (0.0, inf), got -1.0"),
    ("models[0].params.C=[1, x]", "models[0].params.C[1]: expected float, got str"),
    ("models[0].params.l1_ratio=2", "models[0].params.l1_ratio: must lie in [0.0, 1.0], got 2.0"),
    ("models[0].params.max_iter=1.5", "models[0].params.max_iter: expected int, got float"),
    ("models[0].params.max_itr=10", "models[0].params.max_itr: unknown key; expected one of: C, l1_ratio, precision, "
                                    "max_iter (did you mean 'max_iter'?)"),
])
def test_each_mistake_names_its_key(override, expected):
    found = problems([override])
    assert any(expected in p for p in found), found


def test_required_keys_and_several_problems_at_once():
    found = problems([], base={"data": {}, "split": {"n_train": "x"}, "models": [{"name": "m"}]})
    assert any(p.startswith("name: required key is missing") for p in found)
    assert any(p.startswith("data.name: required key is missing (one of mnist") for p in found)
    assert any(p.startswith("split.n_train: expected int or null, got str") for p in found)
    assert any(p.startswith("models[0].kind: required key is missing") for p in found)


def test_cross_key_rules():
    assert "split.n_train: give n_train (counts mode) or train_size (fraction mode)" in problems(["split.n_train="])
    assert any("split.evaluate_on: 'val' needs n_val > 0" in p
               for p in problems(["split.n_val=0", "split.evaluate_on=val"]))
    dup = problems(["models[1]={kind: logistic-regression, name: logreg}"], base={**BASE, "models": [
        BASE["models"][0], {"kind": "logistic-regression"}]})
    assert dup == ["models[1].name: 'logreg' is already the name of models[0]; give each model a distinct name"]
    csv = problems([], base={**BASE, "data": {"name": "csv", "options": {"path": "x.csv"}}})
    assert csv == ["data.options.target: required by data set 'csv'"]


def test_model_name_defaults_to_kind():
    cfg = load_config({**BASE, "models": [{"kind": "logistic-regression"}]})
    assert cfg["models"][0]["name"] == "logistic-regression"


def test_yaml_problems(tmp_path):
    dup = tmp_path / "dup.yaml"
    dup.write_text("name: a\nseeds: [0]\nname: b\n")
    with pytest.raises(ConfigError, match=r"line 3: key 'name' appears twice"):
        load_config(dup)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="config: expected mapping, got list"):
        load_config(_write(tmp_path / "list.yaml", "- 1\n"))


def _write(path, text):
    path.write_text(text)
    return path


def test_unknown_config_lists_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match=r"'nope' not found: .*mnist"):
        find_config("nope")


def test_relative_paths_resolve_against_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.csv").write_text("a,label\n1,x\n2,y\n")
    base = {**BASE, "data": {"name": "csv", "options": {"path": "data/d.csv", "target": "label"}}, "output": "out"}
    monkeypatch.chdir(tmp_path)
    cfg = load_config(base)
    assert cfg["data"]["options"]["path"] == str(tmp_path / "data" / "d.csv")
    assert cfg["output"] == str(tmp_path / "out")
    monkeypatch.chdir(tmp_path / "data")
    with pytest.raises(FileNotFoundError, match=r"data.options.path: 'data/d.csv' not found .*resolve against "
                                                r"the current directory"):
        load_config(base)


def test_overrides():
    raw = apply_overrides(BASE, ["split.n_train=50", "models[0].params.C=[0.1, 1]", "data.options.size=4"])
    assert raw["split"]["n_train"] == 50 and raw["models"][0]["params"]["C"] == [0.1, 1]
    assert raw["data"]["options"] == {"size": 4}
    assert BASE["split"]["n_train"] == 100  # the input is not modified
    with pytest.raises(ValueError, match=r"models has 1 item\(s\), no \[3\]"):
        apply_overrides(BASE, ["models[3].name=x"])
    with pytest.raises(ValueError, match="is not KEY=VALUE"):
        apply_overrides(BASE, ["split..n_train=3"])
    with pytest.raises(ValueError, match="is not KEY=VALUE"):
        apply_overrides(BASE, ["split.n_train"])


def test_shipped_configs_are_documented():
    for name, path in shipped_configs().items():
        assert read_yaml(path)["description"], name
        assert path.read_text().startswith("#"), f"{name}: start with a comment saying what it is for"


# -- schemas generated from scikit-learn's parameter declarations (experiments/params.py) ------------------------

def _toy_estimator(depth_default=3):
    from numbers import Integral, Real

    from sklearn.base import BaseEstimator
    from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions

    class Toy(BaseEstimator):
        """A toy.

        Parameters
        ----------
        depth : int, default=3
            How deep. Further detail.
        rate : float, default=1.0
            Step size.
        """

        _parameter_constraints = {
            "depth": [Interval(Integral, 0, 10, closed="neither")],
            "rate": [Interval(Real, 0, 1, closed="right")],
            "mode": [StrOptions({"fast", "exact"}), HasMethods(["run"])],
            "scale": [Options(Real, {0.5, 1.0}), None],
            "flag": ["boolean"],
            "jobs": [Interval(Integral, None, -1, closed="right"), Interval(Integral, 1, None, closed="left"), None],
            "engine": [HasMethods(["run"])],
            "random_state": ["random_state"],
        }

        def __init__(self, depth=depth_default, rate=1.0, mode="fast", scale=None, flag=False, jobs=None, engine=None,
                     random_state=None):
            self.depth, self.rate, self.mode, self.scale, self.flag = depth, rate, mode, scale, flag
            self.jobs, self.engine, self.random_state = jobs, engine, random_state

    return Toy


@pytest.mark.parametrize("params, expected", [
    ({"depth": 0}, "depth: must be >= 1, got 0"),          # open interval (0, 10) on integers is 1..9
    ({"depth": 10}, "depth: must be <= 9, got 10"),
    ({"depth": 2.5}, "depth: expected int or list of int, got float"),
    ({"rate": 0}, "rate: must lie in (0, 1], got 0.0"),
    ({"rate": 1}, None),
    ({"mode": "slow"}, "mode: 'slow' is not one of exact, fast"),
    ({"scale": 0.7}, "scale: 0.7 is not one of 0.5, 1.0"),
    ({"scale": None}, None),
    ({"flag": "yes"}, "flag: expected bool, got str"),
    ({"jobs": 0}, "jobs: must be int <= -1 or int >= 1, got 0"),
    ({"jobs": -2}, None),
    ({"jobs": "all"}, "jobs: expected int <= -1 or int >= 1 or null, got str"),
    ({"engine": "x"}, "engine: unknown key"),               # HasMethods only: the Python API's, not YAML's
    ({"random_state": 1}, "random_state: unknown key"),     # set by the run
    ({"depth": [2, 3]}, None),                              # searchable: a list is a grid
])
def test_schema_generated_from_parameter_constraints(params, expected):
    from qboost_tn.experiments.params import estimator_record
    from qboost_tn.experiments.schema import validate

    record = estimator_record(_toy_estimator(), searchable=["depth"])
    assert list(record.fields) == ["depth", "rate", "mode", "scale", "flag", "jobs"]
    assert {k: f.default for k, f in record.fields.items()} == {"depth": 3, "rate": 1.0, "mode": "fast",
                                                                "scale": None, "flag": False, "jobs": None}
    assert record.fields["depth"].doc == "How deep." and record.source is not None
    if expected is None:
        validate(record, params)
        return
    with pytest.raises(ConfigError) as info:
        validate(record, params)
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_a_default_that_breaks_its_own_constraints_is_a_bug():
    from qboost_tn.experiments.params import estimator_record

    with pytest.raises(TypeError, match="the default of depth breaks its own constraints"):
        estimator_record(_toy_estimator(depth_default=0))
