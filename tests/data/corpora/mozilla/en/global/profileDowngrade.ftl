
profiledowngrade-window2 =
    .title = You’ve launched an older version of { -brand-product-name }
    .style = min-width: 490px;

profiledowngrade-window-create =
    .label = Create New Profile

profiledowngrade-sync2 = Using an older version of { -brand-product-name } can corrupt bookmarks and browsing history already saved to an existing { -brand-product-name } profile. To protect your information, create a new profile for this installation of { -brand-short-name }. You can always sign in with an account to sync your bookmarks and browsing history between profiles.
profiledowngrade-nosync = Using an older version of { -brand-product-name } can corrupt bookmarks and browsing history already saved to an existing { -brand-product-name } profile. To protect your information, create a new profile for this installation of { -brand-short-name }.

profiledowngrade-quit =
    .label = { PLATFORM() ->
                 [windows] Exit
                *[other] Quit
             }
