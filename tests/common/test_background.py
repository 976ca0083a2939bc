import threading

from common.background import map_in_background


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
