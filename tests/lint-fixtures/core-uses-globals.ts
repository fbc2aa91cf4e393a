// Known-bad: core must not read the clock, randomness or the network itself.
export const stamp = Date.now();
export const dice = Math.random();
export const today = new Date();
export const data = fetch('http://localhost/');
export const saved = localStorage.getItem('x');
