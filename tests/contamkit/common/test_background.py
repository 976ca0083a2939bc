import threading

from contamkit.common.background import map_in_background, overlapped_map


def test_results_in_order_from_one_other_thread():
    threads = set()

    def square(x):
        threads.add(threading.get_ident())
        return x * x

    assert list(map_in_background(square, ((i,) for i in range(20)))) == [i * i for i in range(20)]
    assert threads and threading.get_ident() not in threads and len(threads) == 1


def test_next_item_is_produced_while_the_last_is_worked_on():
    started, produced = threading.Event(), []

    def work(i):
        started.set()
        return i

    def items():
        for i in range(3):
            if i == 1:  # produced only after the background call on item 0 has started
                assert started.wait(5)
            produced.append(i)
            yield (i,)

    assert list(map_in_background(work, items())) == [0, 1, 2]
    assert produced == [0, 1, 2]


def test_overlapped_map_runs_in_the_background_only_when_asked():
    def where(x):
        return x, threading.get_ident()

    here = threading.get_ident()
    inline = list(overlapped_map(where, ((i,) for i in range(5)), background=False))
    behind = list(overlapped_map(where, ((i,) for i in range(5)), background=True))
    assert [x for x, _ in inline] == [x for x, _ in behind] == list(range(5))
    assert {t for _, t in inline} == {here} and here not in {t for _, t in behind}
