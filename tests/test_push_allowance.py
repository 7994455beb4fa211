"""The push allowance (push/allowance.py): pure, with time passed in."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from push.allowance import Allowance


def test_a_burst_sends_the_best_and_defers_the_rest() -> None:
    a: Allowance[str] = Allowance(3, window_s=60.0)
    ranked = [("d", 0.4), ("a", 0.9), ("c", 0.6), ("b", 0.8), ("e", 0.1)]
    assert a.offer(ranked, 0.0) == ["a", "b", "c"]
    assert a.waiting == ["d", "e"]
    assert not a.due(0.0)
    assert a.next_in(0.0) == 20.0  # one token every 20 s
    assert a.due(20.0)
    # Standing still, ranked again where the phone is: the best waiting goes.
    assert a.offer([("d", 0.4), ("e", 0.1)], 20.0) == ["d"]
    assert a.waiting == ["e"]


def test_a_new_vacancy_deferred_while_spent_goes_first_at_refill() -> None:
    a: Allowance[str] = Allowance(2, window_s=10.0)
    assert a.offer([("a", 0.5), ("b", 0.5), ("c", 0.3)], 0.0) == ["a", "b"]
    a.defer("new", 0.9)
    assert a.waiting == ["new", "c"]
    assert a.next_in(1.0) == 4.0
    assert a.offer([("c", 0.3), ("new", 0.9)], 5.0) == ["new"]


def test_what_left_the_list_no_longer_waits() -> None:
    a: Allowance[str] = Allowance(1)
    a.offer([("a", 0.9), ("b", 0.8)], 0.0)
    assert a.waiting == ["b"]
    a.offer([], 1.0)  # b closed or was pushed elsewhere
    assert a.waiting == [] and a.next_in(1.0) is None


def test_refund_gives_back_a_token_not_beyond_the_cap() -> None:
    a: Allowance[str] = Allowance(2)
    assert a.offer([("a", 1.0), ("b", 0.5), ("c", 0.2)], 0.0) == ["a", "b"]
    a.refund(1)  # b had closed meanwhile
    assert a.available(0.0) == 1
    a.refund(5)
    assert a.available(0.0) == 2


def test_time_going_backwards_does_not_mint_tokens() -> None:
    a: Allowance[str] = Allowance(6)
    a.offer([(str(i), 1.0) for i in range(6)], 100.0)
    assert a.available(50.0) == 0
    assert a.available(100.0) == 0


# A run: at increasing times, new vacancies appear (key, priority), some of the
# eligible ones stop being eligible, and the hub ranks what is eligible now.
events = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=30.0),  # seconds since the last step
        st.lists(st.tuples(st.integers(0, 40), st.floats(0.0, 1.0)), max_size=8),  # appear
        st.lists(st.integers(0, 40), max_size=3),  # stop being eligible
    ),
    max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(per=st.integers(1, 8), window=st.sampled_from([1.0, 10.0, 60.0]), run=events)
def test_allowance_properties(per: int, window: float, run: list) -> None:
    a: Allowance[int] = Allowance(per, window_s=window)
    now = 0.0
    eligible: dict[int, float] = {}
    sent: list[tuple[float, int]] = []
    for gap, appear, gone in run:
        now += gap
        for key, prio in appear:
            if key not in {k for _, k in sent}:
                eligible[key] = prio
        for key in gone:
            eligible.pop(key, None)
        ranked = sorted(eligible.items(), key=lambda kv: -kv[1])
        out = a.offer(ranked, now)
        # Best first: what is sent is the top of what is eligible, in order.
        assert out == [k for k, _ in ranked][: len(out)]
        assert [eligible[k] for k in out] == sorted((eligible[k] for k in out), reverse=True)
        for key in out:
            sent.append((now, key))
            del eligible[key]
        # Nothing eligible is lost: it was sent or it waits.
        assert set(a.waiting) == set(eligible)
        # A token left means nothing had to wait.
        assert not (a.available(now) >= 1 and eligible)
    # The allowance: over any stretch of time, at most a full bucket plus what
    # refilled during it (so `per` in a burst, then `per` a window on average).
    times = [t for t, _ in sent]
    for i, t in enumerate(times):
        for j in range(i, len(times)):
            assert j - i + 1 <= per + (times[j] - t) * per / window + 1e-6
    # Standing still afterwards, everything still eligible goes out within its refill.
    n = len(eligible)
    later = now + window * (n // per + 1)
    while eligible:
        due = a.next_in(now)
        assert due is not None
        now += due
        for key in a.offer(sorted(eligible.items(), key=lambda kv: -kv[1]), now):
            del eligible[key]
    assert now <= later + 1e-6
