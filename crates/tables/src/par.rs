//! One way to run work on the machine's cores: [`par_map`] (each worker takes the next block of
//! items until none is left; results in item order, so a parallel run writes the same bytes as
//! a sequential one), and [`threads`] for the one worker pool that writes its results in place
//! (`pool --group`).

use std::sync::atomic::{AtomicUsize, Ordering};

/// The cores this process may use.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// `f` over `items` on at most `max` threads, in item order. Items are handed out in blocks
/// (about eight per worker), so a slow item holds up only its own block.
pub fn par_map<T: Sync, U: Send>(items: &[T], max: usize, f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let n = items.len();
    let workers = threads().min(max).min(n);
    if workers < 2 {
        return items.iter().map(&f).collect();
    }
    let block = (n / (workers * 8)).max(1);
    let next = AtomicUsize::new(0);
    let parts: Vec<Vec<(usize, Vec<U>)>> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                sc.spawn(|| {
                    let mut mine = vec![];
                    loop {
                        let lo = next.fetch_add(block, Ordering::Relaxed);
                        if lo >= n {
                            break mine;
                        }
                        let hi = (lo + block).min(n);
                        mine.push((lo, items[lo..hi].iter().map(&f).collect::<Vec<U>>()));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker panicked"))
            .collect()
    });
    let mut blocks: Vec<(usize, Vec<U>)> = parts.into_iter().flatten().collect();
    blocks.sort_unstable_by_key(|b| b.0);
    blocks.into_iter().flat_map(|b| b.1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_item_order_whatever_the_workers_take() {
        let items: Vec<u64> = (0..10_007).collect();
        // uneven work: a few items are slow
        let out = par_map(&items, usize::MAX, |&x| {
            if x % 1000 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            x * 3
        });
        assert_eq!(out, items.iter().map(|x| x * 3).collect::<Vec<_>>());
        assert_eq!(par_map(&[] as &[u64], 4, |x| *x), Vec::<u64>::new());
        assert_eq!(par_map(&[5u64], 4, |x| x + 1), vec![6]);
    }
}
