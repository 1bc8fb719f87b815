// What each package a cell of package imports names is to the light program (compiler-thread.ts): a
// module that exports nothing. Such a cell's JavaScript and declarations do not depend on what the
// package exports, and the light program need not read the package's declarations to compile it.
export {};
