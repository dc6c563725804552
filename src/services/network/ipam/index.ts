export * from "./address.js";
