profiledowngrade-window2 =
    .style = min-width: 490px;
    .title = Jo hawwe in âldere ferzje fan { -brand-product-name } start
profiledowngrade-window-create =
    .label = Nij profyl oanmeitsje
profiledowngrade-sync2 = It gebrûk fan in âldere ferzje fan { -brand-product-name } kin blêdwizers en navigaasjeskiednis dy’t al yn in besteand { -brand-product-name }-profyl bewarre is skansearje. Meitsje in nij profyl oan foar dizze ynstallaasje fan { -brand-short-name } om jo ynformaasje te beskermjen. Jo kinne jo altyd oanmelde mei in account om jo blêdwizers en navigaasjeskiednis tusken profilen te syngronisearjen.
profiledowngrade-nosync = It gebrûk fan in âldere ferzje fan { -brand-product-name } kin blêdwizers en navigaasjeskiednis dy’t al yn in besteand { -brand-product-name }-profyl bewarre is skansearje. Meitsje in nij profyl oan foar dizze ynstallaasje fan { -brand-short-name } om jo ynformaasje te beskermjen.
profiledowngrade-quit =
    .label =
        { PLATFORM() ->
            [windows] Ofslute
           *[other] Ofslute
        }
