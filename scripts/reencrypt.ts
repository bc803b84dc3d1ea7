// `npm run secrets:reencrypt`: after rotating APP_SECRET (old value in APP_SECRET_PREVIOUS), move every stored
// token ciphertext to the new key. Safe to run twice; rows already on the current key are skipped.
import { disconnectDb } from "@/lib/db";
import { reencryptAll } from "@/lib/portals/tokens";

const { rows, moved } = await reencryptAll();
console.log(`re-encrypted ${moved} of ${rows} token sets with the current APP_SECRET`);
await disconnectDb();
